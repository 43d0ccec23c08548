"""The import and export API: a multipart upload answered with a job to poll, mappings by header,
bad input named in 4xx JSON, roles, and the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time

from sqlalchemy import select

from webapp.contacts.models import Contact
from webapp.lists.models import EmailList

CSV_BODY = (
    b"Email,First Name,Company,Plan,Notes\nada@example.com,Ada,Engines,pro,x\nbad,B,C,,\nbob@example.com,Bob,,free,\n"
)


def post_import(client, body: bytes = CSV_BODY, filename: str = "people.csv", **fields: str):
    return client.post("/api/contacts/import", files={"file": (filename, body, "text/csv")}, data=fields)


async def poll(client, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url).json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def test_import_with_header_mapping_returns_a_job_to_poll(db, api, worker):
    client = await api("editor")
    response = post_import(
        client, mode="upsert", mapping=json.dumps({"Email": "email", "Plan": "custom:plan", "Notes": "ignore"})
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["url"] == f"/api/contacts/import/{job['id']}"
    assert response.headers["location"] == job["url"]
    assert job["mapping"] == {"Email": "email", "Plan": "custom:plan"}  # only what was asked for
    worker("import-worker")
    done = await poll(client, job["url"])
    assert (done["status"], done["inserted"], done["rejected"], done["total"]) == ("done", 2, 1, 3)
    assert done["rejects"] == [
        {"line": 3, "kind": "rejected", "email": "bad", "reason": "An email address must have an @-sign."}
    ]
    db.expire_all()
    ada = await db.scalar(select(Contact).where(Contact.email == "ada@example.com"))
    assert (ada.first_name, ada.custom_fields) == ("", {"plan": "pro"})  # First Name was not mapped


async def test_import_without_mapping_matches_columns_by_header(db, api, worker):
    client = await api("editor")
    job = post_import(client).json()
    worker("import-worker")
    done = await poll(client, job["url"])
    assert done["mapping"] == {"Email": "email", "First Name": "first_name", "Company": "company"}
    db.expire_all()
    names = dict((await db.execute(select(Contact.email, Contact.first_name))).all())
    assert names == {"ada@example.com": "Ada", "bob@example.com": "Bob"}


async def test_bad_input_is_a_4xx_naming_the_field(db, api):
    client = await api("editor")
    static = EmailList(name="Static")
    archived = EmailList(name="Old news", is_active=False)
    db.add_all([static, archived])
    await db.commit()
    cases = [
        (client.post("/api/contacts/import", data={"mode": "add"}), "file"),
        (post_import(client, b"", "empty.csv"), "file"),
        (post_import(client, mode="everything"), "mode"),
        (post_import(client, mapping="{not json"), "mapping"),
        (post_import(client, mapping=json.dumps({"Nope": "email"})), "mapping"),
        (post_import(client, mapping=json.dumps({"Email": "shoe_size"})), "mapping"),
        (post_import(client, mapping=json.dumps({"Company": "company"})), "mapping"),  # no email column
        (post_import(client, b"Name\nAda\n"), "mapping"),  # nothing looks like an email column
        (post_import(client, mode="list"), "list_id"),
        (post_import(client, mode="list", list_id="abc"), "list_id"),
        (post_import(client, mode="suppress", reason="annoying"), "reason"),
    ]
    for response, field in cases:
        assert response.status_code == 422, response.text
        body = response.json()
        assert field in [e["field"] for e in body["errors"]], body
    for list_id, message in (
        (str(archived.id), "'Old news' is archived: restore it to import contacts into it."),
        ("424242", "There is no list 424242: it may have been deleted."),
        ("abc", "Give the list by its number (its id)."),
        ("", "Choose the list to add the contacts to."),
    ):
        response = post_import(client, mode="list", list_id=list_id)
        assert {"field": "list_id", "message": message} in [
            {"field": e["field"], "message": e["message"]} for e in response.json()["errors"]
        ], list_id
    assert client.get("/api/contacts/import/999999").status_code == 404
    assert client.get("/api/contacts/import/99999999999999999999").status_code == 400
    assert client.get("/api/contacts/import/0").status_code == 400
    # refused uploads leave no draft or file behind
    from webapp.imports.models import ImportJob

    assert await db.scalar(select(ImportJob.id)) is None


async def test_roles_viewer_keys_export_but_cannot_import(db, api):
    viewer = await api("viewer")
    assert post_import(viewer).status_code == 403
    assert viewer.get("/api/contacts/export").status_code == 200


async def test_export_streams_csv_for_a_list_of_any_type(db, api):
    db.add_all(
        [
            Contact(email="a@example.com", company="Acme", custom_fields={"plan": "pro"}, tags=["vip", "x"]),
            Contact(email="b@example.com", company="Other", phone="+1 555 0100"),
            Contact(email="c@example.com", company="ACME", first_name="=cmd()"),
        ]
    )
    dynamic = EmailList(
        name="Acme people",
        list_type="dynamic",
        rules={"operator": "AND", "conditions": [{"field": "company", "op": "eq", "value": "acme"}]},
    )
    db.add(dynamic)
    await db.commit()
    client = await api("viewer")
    response = client.get("/api/contacts/export")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["email"] for r in rows] == ["a@example.com", "b@example.com", "c@example.com"]
    assert list(rows[0])[-1] == "plan" and rows[0]["plan"] == "pro" and rows[0]["tags"] == "vip, x"
    assert rows[1]["phone"] == "'+1 555 0100" and rows[2]["first_name"] == "'=cmd()"  # no formulas in Excel
    listed = client.get(f"/api/contacts/export?list_id={dynamic.id}")
    assert [r["email"] for r in csv.DictReader(io.StringIO(listed.text))] == ["a@example.com", "c@example.com"]
    assert 'filename="acme-people-' in listed.headers["content-disposition"]
    filtered = client.get("/api/contacts/export?company=other")
    assert [r["email"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["b@example.com"]
    assert client.get("/api/contacts/export?list_id=424242").status_code == 404
    for bad in ("status=bogus", "active=maybe"):
        refused = client.get(f"/api/contacts/export?{bad}")
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == bad.split("=")[0]
