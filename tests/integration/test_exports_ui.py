"""CSV export from the staff UI: every contact in keyset batches, the contacts page's filters, a
static or segmented list, and a file that imports back unchanged."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select, text

from tests.support.imports import start, upload, uploaded_job_id, wait_for_job
from webapp.contacts.models import Contact
from webapp.imports.service.export import UTF8_BOM
from webapp.lists.models import EmailList, ListMember
from webapp.suppression.service import suppression


def emails(response) -> list[str]:
    return [row["email"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]


async def test_export_streams_every_contact_across_batches_in_id_order(db, staff):
    await db.execute(
        text(
            "INSERT INTO contacts (email, first_name, custom_fields) SELECT 'p' || i || '@example.com', "
            "'P' || i, CASE WHEN i % 1000 = 0 THEN '{\"tier\": \"gold\"}'::jsonb ELSE '{}' END "
            "FROM generate_series(1, 12001) i"
        )
    )
    await db.commit()
    viewer = await staff("viewer")  # reading is enough
    response = viewer.get("/contacts/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="contacts-')
    assert response.content.startswith(UTF8_BOM)  # for Excel
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 12001  # more than two batches of 5,000
    assert rows[0]["email"] == "p1@example.com" and rows[-1]["email"] == "p12001@example.com"
    assert [r["email"] for r in rows if r["tier"]] == [f"p{i}@example.com" for i in range(1000, 12001, 1000)]


async def test_export_says_which_addresses_are_on_the_suppression_list(db, staff):
    """Staff can suppress an address whose contact stays active: a file taken to another tool must say so."""
    db.add_all([Contact(email="kept@example.com"), Contact(email="Carol@example.com"), Contact(email="b@example.com")])
    await db.flush()
    await suppression.add(db, "carol@example.com", "manual")
    await suppression.add(db, "b@example.com", "compliance")
    await db.commit()
    response = (await staff("viewer")).get("/contacts/export")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["email"], r["status"], r["suppressed"]) for r in rows] == [
        ("kept@example.com", "active", ""),
        ("Carol@example.com", "active", "manual"),
        ("b@example.com", "active", "compliance"),
    ]


async def test_export_follows_the_contacts_page_filters(db, staff):
    db.add_all(
        [
            Contact(email="vip@example.com", tags=["vip"], company="Acme"),
            Contact(email="gone@example.com", tags=["vip"], status="unsubscribed"),
            Contact(email="plain@example.com"),
        ]
    )
    await db.commit()
    client = await staff("viewer")
    assert emails(client.get("/contacts/export?tag=vip")) == ["vip@example.com", "gone@example.com"]
    assert emails(client.get("/contacts/export?tag=vip&status=active")) == ["vip@example.com"]
    assert emails(client.get("/contacts/export?q=plain")) == ["plain@example.com"]
    page = client.get("/contacts?tag=vip").text
    assert 'href="/contacts/export?tag=vip"' in page  # the page's button carries its filters


async def test_export_of_a_static_and_a_segmented_list(db, staff):
    people = [Contact(email=f"m{i}@example.com", custom_fields={"plan": "pro" if i % 2 else "free"}) for i in range(4)]
    outsider = Contact(email="out@example.com", custom_fields={"plan": "pro"})
    db.add_all([*people, outsider])
    base = EmailList(name="Base")
    db.add(base)
    await db.flush()
    db.add_all([ListMember(list_id=base.id, contact_id=c.id) for c in people])
    pro = EmailList(
        name="Pro members",
        list_type="segmented",
        parent_list_id=base.id,
        rules={"operator": "AND", "conditions": [{"field": "custom.plan", "op": "eq", "value": "pro"}]},
    )
    db.add(pro)
    await db.flush()
    base_id, pro_id = base.id, pro.id
    await db.commit()
    client = await staff("viewer")
    assert emails(client.get(f"/contacts/export?list_id={base_id}")) == [f"m{i}@example.com" for i in range(4)]
    assert emails(client.get(f"/contacts/export?list_id={pro_id}")) == ["m1@example.com", "m3@example.com"]
    assert f'href="/contacts/export?list_id={pro_id}"' in client.get(f"/lists/{pro_id}").text
    assert client.get("/contacts/export?list_id=987654").status_code == 404
    assert client.get("/contacts/export?list_id=nonsense").status_code == 404


async def test_an_export_imports_back_without_changing_anything(db, staff, worker):
    db.add_all(
        [
            Contact(
                email="ada@example.com",
                first_name="Ada",
                phone="+44 20 7946 0000",
                tags=["=cmd|' /c calc'!a0", "vip", "@sum(1+1)"],
                custom_fields={"plan": "pro"},
                language="en",
            ),
            # A field named like the export's own column, from before that column was added
            Contact(
                email="bob@example.com", company='=HYPERLINK("x")', custom_fields={"score": "7", "Suppressed": "no"}
            ),
        ]
    )
    await db.commit()
    client = await staff("editor")
    exported = client.get("/contacts/export").content
    header = next(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert header[13:] == ["suppressed", "custom:Suppressed", "plan", "score"], header
    cells = [cell for row in csv.reader(io.StringIO(exported.decode("utf-8-sig"))) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]  # no live formula, tags included
    before = {
        c.email: (c.first_name, c.phone, c.company, c.tags, c.custom_fields, c.language)
        for c in await db.scalars(select(Contact))
    }
    job_id = uploaded_job_id(upload(client, exported, "export.csv"))
    job_page = client.get(f"/contacts/import/{job_id}").text
    assert '<option value="custom:plan" selected>' in job_page  # known custom fields are matched by name
    assert '<option value="custom:Suppressed" selected>' in job_page
    mapping = {
        0: "email",
        1: "first_name",
        2: "last_name",
        3: "phone",
        4: "company",
        5: "job_title",
        6: "location",
        7: "tags",
        8: "language",
        14: "custom:Suppressed",  # after the 13 standard columns and "suppressed", which an import ignores
        15: "custom:plan",
        16: "custom:score",
    }
    assert start(client, job_id, mapping, mode="upsert").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.inserted, job.updated, job.skipped, job.rejected) == (0, 0, 2, 0)
    db.expire_all()
    after = {
        c.email: (c.first_name, c.phone, c.company, c.tags, c.custom_fields, c.language)
        for c in await db.scalars(select(Contact))
    }
    assert after == before
    assert await db.scalar(select(func.count()).select_from(Contact)) == 2


async def test_export_refuses_a_filter_the_page_never_offers(db, staff):
    db.add_all([Contact(email="one@example.com"), Contact(email="two@example.com", status="unsubscribed")])
    await db.commit()
    client = await staff("viewer")
    bogus = client.get("/contacts/export?status=bogus")
    assert bogus.status_code == 422  # not a file of everyone passing for the filtered one
    assert "is not a status" in bogus.text and "unsubscribed" in bogus.text
    assert "is not a choice for active" in client.get("/contacts/export?active=maybe").text
    assert client.get("/contacts?status=bogus").status_code == 200  # the page itself shows everyone
    assert emails(client.get("/contacts/export?status=unsubscribed&active=yes")) == ["two@example.com"]
