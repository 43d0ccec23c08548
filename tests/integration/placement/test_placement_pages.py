"""Settings → Seed mailboxes (admins: the password kept encrypted, Test connection against a real
IMAP server), a campaign's placement tests (editors start one, everyone reads the results), and the
same through the API."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.placement.test_placement_tests import campaign_with_seeds, junk_for_outlook, seed_form
from tests.support.campaigns import audience, ready_campaign
from tests.support.dovecot import PASSWORD
from tests.support.seed_provider import seed_provider
from webapp.placement.actors import send_copies_of
from webapp.placement.service import placement


async def test_an_admin_adds_a_seed_whose_password_is_stored_encrypted(staff, db, dovecot):
    admin, editor = await staff("admin"), await staff("editor")
    assert editor.get("/settings/seed-mailboxes").status_code == 403
    assert (
        editor.post("/settings/seed-mailboxes", data=seed_form(dovecot, "G", "g@seeds.example.com")).status_code == 403
    )

    form = seed_form(dovecot, "Gmail <1>", "g@seeds.example.com")
    response = admin.post("/settings/seed-mailboxes", data=form, follow_redirects=True)
    assert response.status_code == 200 and "Gmail &lt;1&gt;" in response.text  # the list, after the redirect
    stored = (await db.execute(text("SELECT password_encrypted FROM seed_mailboxes"))).scalar_one()
    assert stored and PASSWORD.encode() not in stored

    seed_id = (await db.execute(text("SELECT id FROM seed_mailboxes"))).scalar_one()
    edit = admin.get(f"/settings/seed-mailboxes/{seed_id}/edit")
    assert PASSWORD not in edit.text and "leave empty to keep the saved one" in edit.text
    renamed = form | {"name": "Gmail 2", "password": ""}
    assert admin.post(f"/settings/seed-mailboxes/{seed_id}/edit", data=renamed).status_code == 303
    db.expire_all()
    kept = (await db.execute(text("SELECT name, password_encrypted FROM seed_mailboxes"))).one()
    assert kept == ("Gmail 2", stored)

    mistakes = admin.post("/settings/seed-mailboxes", data=seed_form(dovecot, "", "not an address", port="0"))
    assert mistakes.status_code == 422 and "Name the seed" in mistakes.text
    no_password = seed_form(dovecot, "", "g2@seeds.example.com", password="")
    refused = admin.post("/settings/seed-mailboxes", data=no_password)  # a new seed has none saved to keep
    assert refused.status_code == 422 and "Name the seed" in refused.text
    assert "Enter the mailbox&#39;s password." in refused.text
    assert (await db.execute(text("SELECT count(*) FROM seed_mailboxes"))).scalar_one() == 1


async def test_test_connection_signs_in_and_lists_the_folders_it_will_search(staff, db, dovecot):
    admin = await staff("admin")
    dovecot.file("Junk", b"Subject: spam\r\n\r\nbody\r\n")
    ok = admin.post("/settings/seed-mailboxes/test", data=seed_form(dovecot, "G", "g@seeds.example.com"))
    assert ok.status_code == 200 and "Connected and signed in. Folders searched for copies: INBOX, Junk" in ok.text
    # The password tested comes back in its field, to be saved next without typing it again; never cached
    assert f'type="password" value="{PASSWORD}"' in ok.text and ok.headers["cache-control"] == "no-store"
    saved_form = admin.post("/settings/seed-mailboxes", data=seed_form(dovecot, "G", "bad address"))
    assert saved_form.status_code == 422 and f'value="{PASSWORD}"' in saved_form.text  # nor when a save is refused
    bad_host = admin.post("/settings/seed-mailboxes", data=seed_form(dovecot, "G", "g@x.com", host="no host!"))
    assert "e.g. imap.example.com" in bad_host.text and "POP3" not in bad_host.text  # an IMAP form's own words

    wrong = admin.post(
        "/settings/seed-mailboxes/test", data=seed_form(dovecot, "G", "g@seeds.example.com", password="x")
    )
    assert wrong.status_code == 422 and "Sign-in failed" in wrong.text

    private = seed_form(dovecot, "G", "g@seeds.example.com")
    del private["allow_private"]  # a form sends a box only when it is ticked
    refused = admin.post("/settings/seed-mailboxes/test", data=private)
    assert refused.status_code == 422 and "127.0.0.1 is a loopback address" in refused.text
    not_saved = admin.post("/settings/seed-mailboxes", data=private | {"host": "169.254.169.254"})
    assert not_saved.status_code == 422 and 'id="host-error"' in not_saved.text
    assert "169.254.169.254 is a link-local address" in not_saved.text
    assert (await db.execute(text("SELECT count(*) FROM seed_mailboxes"))).scalar_one() == 0

    admin.post("/settings/seed-mailboxes", data=seed_form(dovecot, "G", "g@seeds.example.com"))
    seed_id = (await db.execute(text("SELECT id FROM seed_mailboxes"))).scalar_one()
    saved_password = admin.post(
        f"/settings/seed-mailboxes/{seed_id}/test", data=seed_form(dovecot, "G", "g@x.com", password="")
    )
    assert "Connected and signed in" in saved_password.text


async def test_an_editor_starts_a_test_from_the_campaign_and_everyone_reads_its_results(staff, db, clean_mailbox):
    editor, viewer = await staff("editor"), await staff("viewer")
    with seed_provider(clean_mailbox, folder_for=junk_for_outlook) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        assert f"/campaigns/{campaign_id}/placement-tests" in viewer.get(f"/campaigns/{campaign_id}").text
        assert viewer.post(f"/campaigns/{campaign_id}/placement-tests").status_code == 403

        started = editor.post(
            f"/campaigns/{campaign_id}/placement-tests", data={"wait_minutes": "20"}, follow_redirects=True
        )
        assert started.status_code == 200 and "Placement test started" in started.text
        test_id = (await db.execute(text("SELECT id FROM placement_tests"))).scalar_one()
        assert str(started.url).endswith(f"/campaigns/{campaign_id}/placement-tests/{test_id}")
        await send_copies_of(test_id)  # what the worker does
    await placement.poll(db, test_id)
    await db.commit()

    page = viewer.get(f"/campaigns/{campaign_id}/placement-tests/{test_id}")
    assert page.status_code == 200
    assert "50.0 % of 2 sent" in page.text and "Junk" in page.text and "Outlook 1" in page.text
    campaign_page = viewer.get(f"/campaigns/{campaign_id}").text
    assert f'href="/campaigns/{campaign_id}/placement-tests/{test_id}"' in campaign_page
    assert "Last placement test" in campaign_page and "50.0 % in the inbox" in campaign_page
    listing = viewer.get(f"/campaigns/{campaign_id}/placement-tests")
    assert f"/campaigns/{campaign_id}/placement-tests/{test_id}" in listing.text
    assert viewer.get(f"/campaigns/{campaign_id + 1}/placement-tests/{test_id}").status_code == 404


async def test_the_api_starts_a_test_and_reads_it(api, db, clean_mailbox):
    client = await api("editor")
    lonely = await ready_campaign(db, [(await audience(db, 1, "Other")).id], name="Without seeds")
    await db.commit()
    assert client.post(f"/api/campaigns/{lonely.id}/placement-tests", json={}).status_code == 409

    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        created = client.post(f"/api/campaigns/{campaign_id}/placement-tests", json={"wait_minutes": 5})
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["status"], body["copies"], body["wait_minutes"]) == ("sending", 2, 5)
        await send_copies_of(body["id"])
    await placement.poll(db, body["id"])
    await db.commit()

    read = client.get(f"/api/placement-tests/{body['id']}").json()
    assert (read["status"], read["inbox"], read["inbox_percent"]) == ("done", 2, 100.0)
    assert {row["seed"] for row in read["results"]} == {"Gmail 1", "Outlook 1"}
    listed = client.get(f"/api/campaigns/{campaign_id}/placement-tests").json()
    assert [test["id"] for test in listed] == [body["id"]] and listed[0]["inbox"] == 2
    assert client.get("/api/campaigns/999999/placement-tests").status_code == 404
    assert client.post(f"/api/campaigns/{campaign_id}/placement-tests", json={"wait_minutes": 0}).status_code == 422
    assert client.get("/api/placement-tests/999999").status_code == 404


async def test_a_deleted_seed_leaves_its_rows_in_past_results(staff, db, clean_mailbox):
    admin = await staff("admin")
    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await send_copies_of(test_id)
    seed_id = (await db.execute(text("SELECT id FROM seed_mailboxes WHERE name = 'Gmail 1'"))).scalar_one()
    assert "Delete seed mailbox" in admin.get(f"/settings/seed-mailboxes/{seed_id}/delete").text
    deleted = admin.post(f"/settings/seed-mailboxes/{seed_id}/delete", follow_redirects=True)
    assert "Seed mailbox Gmail 1 deleted." in deleted.text

    page = admin.get(f"/campaigns/{campaign_id}/placement-tests/{test_id}")
    assert "Gmail 1" in page.text and "seed.gmail@seeds.example.com" in page.text
