"""Every opt-out is kept: an unsubscribe by any door (one-click, the unsubscribe page, the preference
centre's "unsubscribe from all", an import in "unsubscribe" mode) leaves the address on the
suppression list, so deleting the contact and adding the address again (API, import, a
sign-up) never makes it mailable, and the contact's shown state says so."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, text

from tests.integration.test_tracking import sent_delivery
from tests.support.imports import start, upload, uploaded_job_id, wait_for_job
from tests.support.subscriptions import members, public_list, queued_confirmations, subscription_rows
from webapp.campaigns.service.audience import count_for_lists
from webapp.contacts.models import Contact
from webapp.core.redis import get_redis
from webapp.core.tokens import make_token
from webapp.subscriptions.service.tokens import confirm_token, preferences_token
from webapp.suppression.models import Suppression
from webapp.suppression.service import suppression

ADDRESS = "person0@example.com"  # the one recipient of tests.integration.test_tracking.sent_delivery


def unsubscribe(base: str, way: str, delivery_id: int, contact_id: int) -> httpx.Response:
    token = make_token("unsubscribe", delivery_id)
    if way == "one-click":
        return httpx.post(f"{base}/u/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    if way == "unsubscribe page":
        return httpx.post(f"{base}/u/unsubscribe/{token}")
    if way == "preference centre, message link":
        return httpx.post(f"{base}/u/preferences/{token}", data={"action": "unsubscribe-all"})
    own = preferences_token(contact_id)
    return httpx.post(f"{base}/u/preferences/{own}", data={"action": "unsubscribe-all"})


async def suppressed(db) -> dict[str | None, str]:
    db.expire_all()
    return {row.email: row.reason for row in await db.scalars(select(Suppression))}


async def rejoin(db, list_id: int) -> None:
    """Staff put the re-added contact back on its list."""
    await db.execute(text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts"), {"l": list_id})
    await db.commit()


@pytest.mark.parametrize(
    "way", ["one-click", "unsubscribe page", "preference centre, message link", "preference centre, own link"]
)
async def test_every_unsubscribe_survives_deleting_and_adding_the_address_again(db, live_server, api, way):
    _, delivery_id, _ = await sent_delivery(db)
    contact_id = await db.scalar(select(Contact.id))
    list_id = await db.scalar(text("SELECT id FROM email_lists"))
    assert unsubscribe(live_server, way, delivery_id, contact_id).status_code == 200
    assert await suppressed(db) == {ADDRESS: "unsubscribe"}

    editor = await api("editor")
    assert editor.delete(f"/api/contacts/{contact_id}").status_code == 204
    as_active = editor.post("/api/contacts", json={"email": ADDRESS, "status": "active"})
    assert as_active.status_code == 422
    # No contact to open yet: the message says how to add it, not to save it "as it is"
    assert "re-permission request: add the contact with the status unsubscribed, then send one" in as_active.text
    readded = editor.post("/api/contacts", json={"email": ADDRESS.upper()})
    assert readded.status_code == 201, readded.text
    assert readded.json()["status"] == "unsubscribed"  # not shown as mailable
    await rejoin(db, list_id)
    assert await count_for_lists(db, [list_id]) == 0
    assert await suppressed(db) == {ADDRESS: "unsubscribe"}


async def one_click_after(db, live_server, change: str) -> None:
    """A sent message's one-click unsubscribe, after `change` (SQL) to its contact."""
    _, delivery_id, _ = await sent_delivery(db)
    await db.execute(text(change))
    await db.commit()
    response = httpx.post(
        f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200


async def test_an_unsubscribe_after_the_contact_was_deleted_is_still_kept(db, live_server):
    await one_click_after(db, live_server, "DELETE FROM contacts")
    assert await suppressed(db) == {ADDRESS: "unsubscribe"}


async def test_an_unsubscribe_from_before_an_address_change_suppresses_both_addresses(db, live_server):
    await one_click_after(db, live_server, "UPDATE contacts SET email = 'new-address@example.com'")
    # so the opt-out outlives the contact under its new address as well
    assert await suppressed(db) == {ADDRESS: "unsubscribe", "new-address@example.com": "unsubscribe"}


async def test_import_unsubscribe_mode_keeps_every_listed_address_out(db, staff, worker):
    db.add_all([Contact(email="a@example.com"), Contact(email="b@example.com", status="bounced")])
    await db.commit()
    client = await staff("editor")
    job_id = uploaded_job_id(upload(client, b"email\nA@example.com\nb@example.com\nnew@example.com\n"))
    assert start(client, job_id, {0: "email"}, mode="unsubscribe").status_code == 303
    worker("import-worker")
    job = await wait_for_job(db, job_id)
    assert (job.updated, job.skipped) == (1, 2)  # b stays bounced; new@ is no contact
    assert await suppressed(db) == {
        "A@example.com": "unsubscribe",  # as the file has it: the entry matches any case
        "b@example.com": "unsubscribe",
        "new@example.com": "unsubscribe",
    }

    # Deleted, then imported again in "add" mode onto a list: back as a contact, still not mailable.
    await db.execute(text("DELETE FROM contacts"))
    await db.execute(text("INSERT INTO email_lists (name) VALUES ('Newsletter')"))
    await db.commit()
    list_id = await db.scalar(text("SELECT id FROM email_lists"))
    again = uploaded_job_id(upload(client, b"email\na@example.com\nfresh@example.com\n"))
    assert start(client, again, {0: "email"}, mode="list", list_id=str(list_id)).status_code == 303
    assert (await wait_for_job(db, again)).inserted == 2
    assert await count_for_lists(db, [list_id]) == 1  # fresh@ only
    readded, status = (
        await db.execute(select(Contact.id, Contact.status).where(Contact.email == "a@example.com"))
    ).one()
    assert status == "unsubscribed"  # as the API and every filter by status see it
    page = client.get(f"/contacts/{readded}")
    assert 'id="contact-state"' in page.text and "Unsubscribed" in page.text and "Receives mail" not in page.text
    table = client.get("/contacts", params={"q": "a@example.com"})
    assert '<span class="badge unsubscribed">' in table.text and '<span class="badge active">' not in table.text


async def test_a_sign_up_does_not_undo_the_unsubscribe_of_a_deleted_contact(db, live_server):
    await suppression.add(db, "gone@example.com", "unsubscribe", source="campaign 1: one-click")
    await db.commit()
    email_list = await public_list(db, "Deals", double_opt_in=False)
    done = httpx.post(f"{live_server}/subscribe/{email_list.id}", data={"email": "gone@example.com"})
    assert done.status_code == 200
    [record] = await subscription_rows(db)
    assert record["status"] == "pending" and record["contact_status"] == "unsubscribed"
    assert await members(db, email_list.id) == []
    assert await queued_confirmations(get_redis()) == 1  # the owner may confirm, and only they


async def test_pasting_an_opted_out_address_into_a_list_brings_it_back_opted_out(db, staff):
    await suppression.add(db, "gone@example.com", "unsubscribe", source="campaign 1: one-click")
    await suppression.add(db, "dead@example.com", "bounce", source="campaign 1: 5.1.1")
    await db.execute(text("INSERT INTO email_lists (name) VALUES ('Newsletter')"))
    await db.commit()
    list_id = await db.scalar(text("SELECT id FROM email_lists"))
    client = await staff("editor")
    pasted = "GONE@example.com\ndead@example.com\nnew@example.com"
    assert client.post(f"/lists/{list_id}/members", data={"addresses": pasted}).status_code == 303
    statuses = dict((await db.execute(select(Contact.email, Contact.status))).all())
    assert statuses == {"GONE@example.com": "unsubscribed", "dead@example.com": "bounced", "new@example.com": "active"}
    assert await count_for_lists(db, [list_id]) == 1


async def test_a_complaint_is_undone_neither_by_an_earlier_confirmation_link_nor_by_the_preference_centre(
    db, live_server, api
):
    email_list = await public_list(db, "Deals")
    assert (
        httpx.post(f"{live_server}/subscribe/{email_list.id}", data={"email": "angry@example.com"}).status_code == 200
    )
    [record] = await subscription_rows(db)
    contact_id = await db.scalar(select(Contact.id).where(Contact.email == "angry@example.com"))
    editor = await api("editor")
    assert editor.put(f"/api/contacts/{contact_id}", json={"status": "complained"}).status_code == 200

    link = f"{live_server}/subscribe/confirm/{confirm_token(record['id'], email_list.id)}"
    for answer in (httpx.get(link), httpx.post(link)):
        assert answer.status_code == 403 and "This address cannot be subscribed" in answer.text
    preferences = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    page = httpx.get(preferences).text
    assert "We no longer send you email" in page and 'name="join"' not in page
    saved = httpx.post(preferences, data={"join": str(email_list.id), "action": "save"})
    assert saved.status_code in (200, 303)

    db.expire_all()
    assert await db.scalar(select(Contact.status).where(Contact.id == contact_id)) == "complained"
    assert await members(db, email_list.id) == []
    assert (await subscription_rows(db))[0]["status"] == "pending"
    assert await suppressed(db) == {"angry@example.com": "complaint"}

    # Once staff take the complaint off the list (the person asked to come back), the subscriber may opt in.
    await suppression.remove(db, "angry@example.com", "Asked by phone to receive the deals again.", actor="editor")
    await db.commit()
    assert 'name="join"' in httpx.get(preferences).text
    httpx.post(preferences, data={"join": str(email_list.id), "action": "save"})
    db.expire_all()
    assert await db.scalar(select(Contact.status).where(Contact.id == contact_id)) == "active"
    assert await members(db, email_list.id) == ["angry@example.com"]
