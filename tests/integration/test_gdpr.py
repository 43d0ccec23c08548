"""GDPR export and erasure: the service against PostgreSQL, the contact page's buttons and the API."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from sqlalchemy import select, text

from tests.support.campaigns import ready_campaign
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.errors import NotFound
from webapp.lists.models import EmailList
from webapp.lists.service import lists
from webapp.suppression.models import Suppression
from webapp.suppression.service import gdpr, suppression
from webapp.tracking.service import hits


async def history(db) -> dict:
    """Ada on a list with a consent record, two sent campaigns (an open, a click, a bounce) and a
    campaign to someone else; returns ids."""
    ada = await contacts.create_contact(
        db,
        {
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "tags": ["vip"],
            "custom_fields": {"plan": "gold", "seats": 3},
            "status": "active",
        },
    )
    ada.language, ada.frequency, ada.topics = "es", "weekly", ["news", "offers"]
    other = await contacts.create_contact(db, {"email": "other@example.com"})
    news = await lists.create_list(db, {"name": "News"}, created_by="tests")
    await lists.add_members(db, news.id, [ada.id, other.id])
    await db.execute(
        text("""INSERT INTO subscriptions (contact_id, list_id, status, source, ip_address, consent_text,
                             confirmed_at) VALUES (:c, :l, 'confirmed', 'hosted page', '203.0.113.9',
                             'Yes, send me news', now())"""),
        {"c": ada.id, "l": news.id},
    )
    first = await ready_campaign(db, [news.id], name="Spring sale")
    second = await ready_campaign(db, [news.id], name="Summer sale")
    ids = {}
    for campaign in (first, second):
        ids[campaign.name] = await db.scalar(
            text(
                """INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, error_message)
               VALUES (:c, :p, 'Ada@example.com', 'sent', now(), '') RETURNING id"""
            ),
            {"c": campaign.id, "p": ada.id},
        )
        await db.execute(
            text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                                 VALUES (:c, :p, 'other@example.com', 'sent', now())"""),
            {"c": campaign.id, "p": other.id},
        )
    link_id = await db.scalar(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/offer') RETURNING id"),
        {"c": first.id},
    )
    await hits.apply(db, [hits.new_hit("open", ids["Spring sale"], None, "")])
    await hits.apply(db, [hits.new_hit("click", ids["Spring sale"], link_id, "")])
    await db.commit()  # hits carry the time they happened: the bounce below comes after them
    await db.execute(
        text("""UPDATE deliveries SET status = 'failed', bounced_at = now(),
                             error_message = '550 5.1.1 <Ada@example.com>: no such user' WHERE id = :d"""),
        {"d": ids["Summer sale"]},
    )
    await db.execute(
        text("""INSERT INTO email_events (delivery_id, campaign_id, contact_id, kind, detail)
                             VALUES (:d, :c, :p, 'bounce', '550 5.1.1 <Ada@example.com>: no such user')"""),
        {"d": ids["Summer sale"], "c": second.id, "p": ada.id},
    )
    await db.commit()
    return {
        "ada": ada.id,
        "other": other.id,
        "list": news.id,
        "first": first.id,
        "second": second.id,
        "deliveries": list(ids.values()),
    }


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_export_holds_everything_about_the_contact_as_json(db):
    ids = await history(db)
    await suppression.add(db, "ada@example.com", "complaint", note="phoned in")
    data = await gdpr.export_contact(db, ids["ada"])
    assert json.loads(json.dumps(data)) == data  # JSON-ready as it is

    profile = data["contact"]
    assert profile["id"] == ids["ada"] and profile["email"] == "Ada@example.com"
    assert (profile["first_name"], profile["last_name"], profile["tags"]) == ("Ada", "Lovelace", ["vip"])
    assert profile["custom_fields"] == {"plan": "gold", "seats": 3}
    assert (profile["language"], profile["frequency"], profile["topics"]) == ("es", "weekly", ["news", "offers"])
    assert profile["emails_opened"] == 1 and profile["emails_clicked"] == 1
    iso(profile["date_added"]), iso(data["exported_at"])
    assert "search" not in profile and "email_hash" not in profile

    assert [(m["id"], m["name"]) for m in data["lists"]] == [(ids["list"], "News")]
    [consent] = data["consent_records"]
    assert consent["list_name"] == "News" and consent["status"] == "confirmed"
    assert (consent["source"], consent["ip_address"], consent["consent_text"]) == (
        "hosted page",
        "203.0.113.9",
        "Yes, send me news",
    )
    iso(consent["confirmed_at"])

    assert [(d["campaign_name"], d["status"]) for d in data["deliveries"]] == [
        ("Spring sale", "clicked"),
        ("Summer sale", "failed"),
    ]
    assert all(d["email"] == "Ada@example.com" for d in data["deliveries"])  # nobody else's
    iso(data["deliveries"][0]["opened_at"]), iso(data["deliveries"][1]["bounced_at"])
    assert [(e["kind"], e["campaign_name"]) for e in data["events"]] == [
        ("open", "Spring sale"),
        ("click", "Spring sale"),
        ("bounce", "Summer sale"),
    ]
    assert data["events"][1]["link_url"] == "https://example.com/offer"

    assert data["suppression"]["suppressed"] is True and data["suppression"]["reason"] == "complaint"
    iso(data["suppression"]["since"])

    with pytest.raises(NotFound):
        await gdpr.export_contact(db, 999_999)


async def test_erase_keeps_only_the_hash_and_anonymises_the_history(db):
    ids = await history(db)
    erased = await gdpr.erase_contact(db, ids["ada"], actor="Editor")
    await db.commit()
    assert (erased.deliveries_anonymised, erased.events_anonymised) == (2, 3)

    assert await db.get(Contact, ids["ada"]) is None
    assert await db.scalar(text("SELECT count(*) FROM list_members WHERE contact_id = :c"), {"c": ids["ada"]}) == 0
    assert await db.scalar(text("SELECT count(*) FROM subscriptions")) == 0
    db.expire_all()
    assert (await db.get(EmailList, ids["list"])).contact_count == 1  # the trigger saw the cascade

    entry = await db.scalar(select(Suppression))
    assert entry.id == erased.suppression_id
    assert entry.email is None and entry.reason == "compliance" and entry.created_by == "Editor"
    assert entry.email_hash == hashlib.sha256(b"ada@example.com").digest()

    rows = (
        await db.execute(
            text("SELECT contact_id, email, error_message, status FROM deliveries WHERE id = ANY(:d) ORDER BY id"),
            {"d": ids["deliveries"]},
        )
    ).all()
    assert [tuple(r) for r in rows] == [(None, "", "", "clicked"), (None, "", "", "failed")]  # statuses kept
    events = (await db.execute(text("SELECT contact_id, detail, kind FROM email_events ORDER BY id"))).all()
    assert [tuple(e) for e in events] == [(None, "", "open"), (None, "", "click"), (None, "", "bounce")]
    dump = json.dumps(
        [
            list(map(str, r))
            for r in (
                await db.execute(
                    text("SELECT d.*, e.* FROM deliveries d LEFT JOIN email_events e ON e.delivery_id = d.id")
                )
            ).all()
        ]
    )
    assert "ada@" not in dump.lower()  # the address is gone from the history
    # the other contact's history is untouched
    assert await db.scalar(text("SELECT count(*) FROM deliveries WHERE contact_id = :c"), {"c": ids["other"]}) == 2
    campaign_opens = await db.scalar(text("SELECT opened_count FROM campaigns WHERE id = :c"), {"c": ids["first"]})
    assert campaign_opens == 1  # statistics survive


async def test_an_erased_address_stays_suppressed_when_added_again(db):
    ids = await history(db)
    await gdpr.erase_contact(db, ids["ada"], actor="Editor")
    await db.commit()
    assert await suppression.is_suppressed(db, "ADA@example.com")
    again = await contacts.create_contact(db, {"email": "ada@EXAMPLE.com"})  # re-imported
    assert await suppression.is_suppressed(db, again.email)
    result = await suppression.add(db, "ada@example.com", "manual")
    assert not result.created and result.suppression.email is None  # the address is not written back
    assert await suppression.add_many(db, ["Ada@example.com"], "manual") == 0
    assert await db.scalar(select(Suppression.email)) is None


async def test_erasing_a_suppressed_address_keeps_its_reason_and_drops_a_note_quoting_it(db):
    ids = await history(db)
    await suppression.add(db, "ada@example.com", "bounce", note="550 <ada@example.com> unknown")
    erased = await gdpr.erase_contact(db, ids["ada"], actor="Editor")
    entry = await db.scalar(select(Suppression).where(Suppression.id == erased.suppression_id))
    assert (entry.email, entry.reason, entry.note) == (None, "bounce", "")
    assert await db.scalar(text("SELECT count(*) FROM suppressions")) == 1
    with pytest.raises(NotFound):
        await gdpr.erase_contact(db, ids["ada"], actor="Editor")


async def test_erase_skips_deliveries_not_sent_yet_so_nothing_goes_to_an_empty_address(db):
    ids = await history(db)
    third = await ready_campaign(db, [ids["list"]], name="Autumn sale")
    pending = await db.scalar(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email)
                                      VALUES (:c, :p, 'Ada@example.com') RETURNING id"""),
        {"c": third.id, "p": ids["ada"]},
    )
    await gdpr.erase_contact(db, ids["ada"], actor="Editor")
    row = (
        await db.execute(text("SELECT status, email, error_message FROM deliveries WHERE id = :d"), {"d": pending})
    ).one()
    assert tuple(row) == ("skipped", "", "Not sent: the contact was erased.")
    assert await db.scalar(text("SELECT skipped_count FROM campaigns WHERE id = :c"), {"c": third.id}) == 1
    assert await db.scalar(text("SELECT skipped_count FROM campaigns WHERE id = :c"), {"c": ids["first"]}) == 0


async def test_erase_also_anonymises_deliveries_of_an_earlier_deleted_contact_with_the_address(db):
    ids = await history(db)
    await contacts.delete_contacts(db, [ids["ada"]])  # deleted, not erased: history keeps the address
    again = await contacts.create_contact(db, {"email": "ada@example.com"})
    erased = await gdpr.erase_contact(db, again.id, actor="Editor")
    assert erased.deliveries_anonymised == 2
    assert await db.scalar(text("SELECT count(*) FROM deliveries WHERE lower(email) = 'ada@example.com'")) == 0


# ---- the contact page ---------------------------------------------------------------------


async def test_contact_page_shows_the_suppression_badge_and_the_privacy_buttons(staff, db):
    ids = await history(db)
    viewer = await staff("viewer")
    page = viewer.get(f"/contacts/{ids['ada']}").text
    assert "Suppressed:" not in page
    assert f'href="/contacts/{ids["ada"]}/export" download hx-boost="false">Export data (JSON)</a>' in page
    assert "Erase contact (GDPR)" not in page  # viewers cannot erase

    await suppression.add(db, "ADA@example.com", "bounce")
    await db.commit()
    editor = await staff("editor")
    page = editor.get(f"/contacts/{ids['ada']}").text
    assert "Suppressed: bounce, since " in page
    assert f'href="/contacts/{ids["ada"]}/erase">Erase contact (GDPR)</a>' in page


async def test_export_downloads_json(staff, db):
    ids = await history(db)
    client = await staff("viewer")
    response = client.get(f"/contacts/{ids['ada']}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == f'attachment; filename="contact-{ids["ada"]}.json"'
    data = response.json()
    assert data["contact"]["email"] == "Ada@example.com" and len(data["deliveries"]) == 2
    assert client.get("/contacts/999999/export").status_code == 404


async def test_erase_from_the_contact_page_needs_the_address_typed(staff, db):
    ids = await history(db)
    viewer = await staff("viewer")
    assert viewer.get(f"/contacts/{ids['ada']}/erase").status_code == 403
    assert viewer.post(f"/contacts/{ids['ada']}/erase", data={"confirm_email": "Ada@example.com"}).status_code == 403

    editor = await staff("editor")
    confirm = editor.get(f"/contacts/{ids['ada']}/erase")
    assert confirm.status_code == 200 and "Type the address to confirm" in confirm.text

    wrong = editor.post(f"/contacts/{ids['ada']}/erase", data={"confirm_email": "<b>ada@example.org</b>"})
    assert wrong.status_code == 422
    assert "Type the contact&#39;s address exactly to confirm." in wrong.text
    assert 'value="&lt;b&gt;ada@example.org&lt;/b&gt;"' in wrong.text  # kept, escaped
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE id = :c"), {"c": ids["ada"]}) == 1

    done = editor.post(f"/contacts/{ids['ada']}/erase", data={"confirm_email": " ada@EXAMPLE.com "})
    assert done.status_code == 303 and done.headers["location"] == "/contacts"
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE id = :c"), {"c": ids["ada"]}) == 0
    assert f"Contact #{ids['ada']} was erased" in editor.get("/contacts").text

    table = editor.get("/suppression").text.split('<div id="suppression-results">')[1]
    assert '<td class="email"><span class="muted">(erased address)</span></td>' in table and "compliance" in table
    assert "ada@" not in table.lower()
    assert editor.get(f"/contacts/{ids['ada']}/erase").status_code == 404


# ---- the API ------------------------------------------------------------------------------


async def test_api_export_and_erase(api, db):
    ids = await history(db)
    viewer = await api("viewer")
    exported = viewer.get(f"/api/contacts/{ids['ada']}/export")
    assert exported.status_code == 200
    body = exported.json()
    assert set(body) == {
        "export_version",
        "exported_at",
        "contact",
        "lists",
        "consent_records",
        "deliveries",
        "events",
        "conversions",
        "custom_events",
        "lead_score",
        "suppression",
    }
    assert body["contact"]["custom_fields"] == {"plan": "gold", "seats": 3}
    assert body["suppression"] == {"suppressed": False, "reason": None, "since": None, "note": None}
    assert viewer.post(f"/api/contacts/{ids['ada']}/erase").status_code == 403
    assert viewer.get("/api/contacts/999999/export").status_code == 404

    editor = await api("editor")
    erased = editor.post(f"/api/contacts/{ids['ada']}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json()["contact_id"] == ids["ada"] and erased.json()["deliveries_anonymised"] == 2
    assert editor.get(f"/api/contacts/{ids['ada']}").status_code == 404
    check = editor.get("/api/suppression/check", params={"email": "ADA@example.com"}).json()
    assert check["suppressed"] is True and check["reason"] == "compliance"
    again = editor.post(f"/api/contacts/{ids['ada']}/erase")
    assert again.status_code == 404 and again.json()["status_code"] == 404
