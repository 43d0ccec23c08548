"""Only the subscriber undoes an opt-out: staff cannot set an unsubscribed, bounced or complained
contact back to active (form, API, import), the contact page shows one clear state and explains
the opt-out, and staff may send a re-permission request, which makes the contact mailable again
on the chosen list once its owner confirms."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import select, text

from tests.integration.test_contacts_ui import form
from tests.integration.test_optouts import ADDRESS, suppressed
from tests.integration.test_tracking import sent_delivery
from tests.support.campaigns import smtp_server
from tests.support.imports import start, upload, uploaded_job_id, wait_for_job
from tests.support.smtp import SmtpSink
from tests.support.subscriptions import confirm_link, members, queued_confirmations, text_part, wait_for_messages
from webapp.campaigns.service.audience import count_for_lists
from webapp.contacts.models import Contact
from webapp.core.redis import get_redis
from webapp.core.tokens import make_token
from webapp.suppression.service import suppression

OPTED_OUT = ["unsubscribed", "bounced", "complained"]


async def contact(db, **columns) -> int:
    row = Contact(email=columns.pop("email", "pat@example.com"), first_name="Pat", **columns)
    db.add(row)
    await db.commit()
    return row.id


async def status_of(db, contact_id: int) -> tuple[str, str]:
    db.expire_all()
    row = await db.get(Contact, contact_id)
    return row.status, row.first_name


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


@pytest.mark.parametrize("old", OPTED_OUT)
async def test_the_contact_form_refuses_to_make_an_opted_out_contact_mailable(db, staff, old):
    contact_id = await contact(db, status=old)
    editor = await staff("editor")
    for new in ("active", "pending"):
        response = editor.post(
            f"/contacts/{contact_id}/edit", data=form(email="pat@example.com", first_name="Patricia", status=new)
        )
        assert response.status_code == 422
        assert "Only" in field_error(response.text, "status") and "re-permission request" in response.text
        assert 'value="Patricia"' in response.text  # what was typed is kept
        assert await status_of(db, contact_id) == (old, "Pat")
    # Everything else can still be edited, and one opt-out may become another.
    fine = editor.post(f"/contacts/{contact_id}/edit", data=form(email="pat@example.com", first_name="P", status=old))
    assert fine.status_code == 303
    worse = editor.post(f"/contacts/{contact_id}/edit", data=form(email="pat@example.com", status="complained"))
    assert worse.status_code == 303 and (await status_of(db, contact_id))[0] == "complained"


async def test_the_api_refuses_to_make_an_opted_out_contact_mailable(db, api):
    client = await api("editor")
    contact_id = await contact(db, status="unsubscribed")
    refused = client.put(f"/api/contacts/{contact_id}", json={"status": "active", "first_name": "Patricia"})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "status" and "re-permission request" in error["message"]
    assert await status_of(db, contact_id) == ("unsubscribed", "Pat")
    assert client.put(f"/api/contacts/{contact_id}", json={"first_name": "Patricia"}).status_code == 200

    # Staff setting an opt-out records it on the suppression list, so it outlives the contact.
    other = client.post("/api/contacts", json={"email": "gone@example.com", "status": "bounced"}).json()
    assert client.delete(f"/api/contacts/{other['id']}").status_code == 204
    assert (await suppressed(db))["gone@example.com"] == "bounce"
    again = client.post("/api/contacts", json={"email": "gone@example.com", "status": "active"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "status"
    assert client.post("/api/contacts", json={"email": "gone@example.com"}).json()["status"] == "bounced"


async def test_an_address_moved_to_another_contact_takes_its_opt_out_along(db, api):
    """The opt-out belongs to the address: giving it to another contact does not make it mailable."""
    client = await api("editor")
    gone = client.post("/api/contacts", json={"email": "gone@example.com", "status": "unsubscribed"}).json()
    assert client.delete(f"/api/contacts/{gone['id']}").status_code == 204
    other = await contact(db, email="other@example.com")
    moved = client.put(f"/api/contacts/{other}", json={"email": "gone@example.com"})
    assert moved.status_code == 200 and moved.json()["status"] == "unsubscribed"
    assert client.delete(f"/api/contacts/{other}").status_code == 204
    third = await contact(db, email="third@example.com")
    refused = client.put(f"/api/contacts/{third}", json={"email": "gone@example.com", "status": "active"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "status"
    # a pending contact whose address is suppressed for a complaint is not made active either
    pending = await contact(db, email="spam@example.com", status="pending")
    await suppression.add(db, "spam@example.com", "complaint")
    await db.commit()
    made_active = client.put(f"/api/contacts/{pending}", json={"status": "active"})
    assert made_active.status_code == 422 and "spam" in made_active.json()["errors"][0]["message"]
    assert client.put(f"/api/contacts/{pending}", json={"first_name": "Sam"}).status_code == 200


async def test_taking_an_unsubscribe_off_the_list_then_deleting_the_contact_keeps_the_opt_out(db, api):
    """Staff may take an entry off the suppression list (the contact stays unsubscribed), but deleting
    the contact then must not be the way to make the address mailable again."""
    client = await api("editor")
    contact_id = await contact(db, email="left@example.com", status="unsubscribed")
    await suppression.add(db, "left@example.com", "unsubscribe")
    await db.commit()
    assert client.delete("/api/suppression/left@example.com", params={"reason": "asked by phone"}).status_code == 204
    assert client.delete(f"/api/contacts/{contact_id}").status_code == 204
    assert (await suppressed(db))["left@example.com"] == "unsubscribe"
    again = client.post("/api/contacts", json={"email": "left@example.com", "status": "active"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "status"


@pytest.mark.parametrize(("status", "reason"), [("unsubscribed", "unsubscribe"), ("bounced", "bounce")])
async def test_an_opted_out_contact_given_a_new_address_leaves_the_old_one_opted_out(db, api, status, reason):
    """Renaming is not a way round it either: the address the contact leaves keeps its opt-out, even
    when staff took it off the suppression list first, and the contact keeps its status."""
    client = await api("editor")
    contact_id = await contact(db, email="left@example.com", status=status)
    await suppression.add(db, "left@example.com", reason)
    await db.commit()
    assert client.delete("/api/suppression/left@example.com", params={"reason": "asked by phone"}).status_code == 204
    renamed = client.put(f"/api/contacts/{contact_id}", json={"email": "renamed@example.com"})
    assert renamed.status_code == 200 and renamed.json()["status"] == status
    assert (await suppressed(db))["left@example.com"] == reason
    again = client.post("/api/contacts", json={"email": "left@example.com"})
    assert again.status_code == 201 and again.json()["status"] == status, again.text


async def test_an_update_import_leaves_an_opted_out_contact_opted_out(db, staff, worker):
    contact_id = await contact(db, status="unsubscribed")
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"email,first name,status\npat@example.com,Patricia,active\n"))
    assert start(client, job_id, {0: "email", 1: "first_name"}, mode="upsert").status_code == 303
    worker("import-worker")
    assert (await wait_for_job(db, job_id)).updated == 1
    assert await status_of(db, contact_id) == ("unsubscribed", "Patricia")


async def test_the_contact_page_shows_one_clear_state_and_explains_an_opt_out(db, staff):
    mailable = await contact(db, email="yes@example.com")
    paused = await contact(db, email="paused@example.com", is_active=False)
    gone = await contact(db, email="gone@example.com", status="unsubscribed")
    spam = await contact(db, email="spam@example.com", status="complained")
    editor, viewer = await staff("editor"), await staff("viewer")

    def state(client, contact_id: int) -> str:
        page = client.get(f"/contacts/{contact_id}")
        assert page.status_code == 200 and "<dt>Active</dt>" not in page.text
        found = re.search(r'<dd id="contact-state">(.*?)</dd>', page.text, re.S)
        assert found, page.text
        return page.text

    assert "Receives mail" in state(editor, mailable)
    assert "Inactive" in state(editor, paused) and "Receives mail" not in state(editor, paused)
    gone_page = state(editor, gone)
    assert "Unsubscribed" in gone_page and "Receives mail" not in gone_page
    assert "Only they can opt in again" in gone_page
    assert f'href="/contacts/{gone}/repermission"' in gone_page
    assert f'href="/contacts/{gone}/repermission"' not in state(viewer, gone)
    spam_page = state(editor, spam)
    assert "Complained" in spam_page and "/repermission" not in spam_page
    assert editor.post(f"/contacts/{spam}/repermission", data={"list_id": "1"}).status_code == 409
    assert f'href="/contacts/{mailable}/repermission"' not in state(editor, mailable)
    held = await contact(db, email="held@example.com")
    await suppression.add(db, "held@example.com", "manual")
    await db.commit()
    refused = editor.post(f"/contacts/{held}/repermission", data={"list_id": "1"})
    assert refused.status_code == 409 and "is on the suppression list by staff" in html.unescape(refused.text)


async def test_a_re_permission_request_makes_the_contact_mailable_once_it_confirms(db, staff, api, worker, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    audience_id = await db.scalar(text("SELECT id FROM email_lists"))
    await db.execute(text("INSERT INTO email_lists (name) VALUES ('Product news')"))
    other_id = await db.scalar(text("SELECT id FROM email_lists WHERE name = 'Product news'"))
    await db.execute(
        text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts"), {"l": other_id}
    )
    contact_id = await db.scalar(select(Contact.id))
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        one_click = {"List-Unsubscribe": "One-Click"}
        unsubscribe_url = f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"
        assert httpx.post(unsubscribe_url, data=one_click).status_code == 200
        editor = await staff("editor")
        url = f"/contacts/{contact_id}/repermission"
        page = editor.get(url)
        assert page.status_code == 200 and 'name="list_id"' in page.text and "Product news" in page.text
        assert "only that list" in page.text

        missing = editor.post(url, data={"list_id": ""})
        assert missing.status_code == 422 and field_error(missing.text, "list_id")
        unknown = editor.post(url, data={"list_id": "424242"})
        assert "List 424242 is not one they can be asked to rejoin" in field_error(unknown.text, "list_id")
        viewer = await staff("viewer")
        assert viewer.post(url, data={"list_id": str(audience_id)}).status_code == 403
        sent = editor.post(url, data={"list_id": str(audience_id)})
        assert sent.status_code == 303 and sent.headers["location"] == f"/contacts/{contact_id}"
        again = editor.post(url, data={"list_id": str(audience_id)})  # within the hour: like sign-ups, refused
        assert again.status_code == 429 and field_error(again.text, "list_id")
        by_api = (await api("editor")).post(f"/api/contacts/{contact_id}/repermission", json={"list_id": audience_id})
        assert by_api.status_code == 429 and "retry-after" in by_api.headers
        assert await queued_confirmations(get_redis()) == 1

        worker("subscribe-worker", MAILROOM_BASE_URL=live_server)
        [message] = await wait_for_messages(sink, 1)
        assert message["To"] == ADDRESS and "Audience" in message["Subject"]
        assert "receive Audience again" in text_part(message)
        assert await status_of(db, contact_id) == ("unsubscribed", "Person0")  # nothing changes until it confirms

        confirmed = httpx.post(confirm_link(message))
        assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
        assert (await status_of(db, contact_id))[0] == "active"
        assert await suppressed(db) == {}
        assert await members(db, audience_id) == [ADDRESS] and await members(db, other_id) == []  # that list only
        assert await count_for_lists(db, [audience_id]) == 1
