"""Inbox placement in Chromium: an admin adds a seed mailbox (a real Dovecot) after testing its
connection, starts a placement test from the campaign's page, and the results page fills in by
itself once a real worker has sent the copies and found them: one in the inbox, one filed into
Junk by the provider's filter, with the provider's verdicts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.integration.placement.test_placement_tests import junk_for_outlook, seed_form
from tests.support.campaigns import audience, ready_campaign, smtp_server
from tests.support.dovecot import PASSWORD, USER, Dovecot
from tests.support.seed_provider import seed_provider
from tests.support.workers import worker  # noqa: F401  (fixture: a real Dramatiq worker process)
from webapp.placement.service import seeds


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def test_an_admin_adds_a_seed_and_reads_where_the_campaign_lands(admin, page, base_url, dovecot, worker):  # noqa: F811
    with seed_provider(dovecot, folder_for=junk_for_outlook) as provider:

        async def arrange(session) -> int:
            await smtp_server(session, provider.port)
            await seeds.create_seed(session, seed_form(dovecot, "Outlook 1", "seed@outlook.example.com", "outlook"))
            return (await ready_campaign(session, [(await audience(session, 1)).id], name="Spring sale")).id

        campaign_id = run_db(arrange)
        worker("placement-browser")
        sign_in_page(page, base_url, admin.email)
        page.locator(".sidebar").get_by_role("link", name="Seed mailboxes").click()
        page.get_by_role("link", name="Add seed mailbox").click()
        page.get_by_label("Name", exact=True).fill("Gmail 1")
        page.get_by_label("Address", exact=True).fill("seed@gmail.example.com")
        page.get_by_label("Host", exact=True).fill("127.0.0.1")
        page.get_by_label("Port", exact=True).fill(str(dovecot.imap_port))
        page.get_by_label("TLS mode").select_option("none")
        page.get_by_label("Username", exact=True).fill(USER)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Allow a private address").check()
        page.get_by_role("button", name="Test connection").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Connected and signed in. Folders searched for copies: INBOX"
        )
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Add seed mailbox").click()
        expect(page.get_by_text("Seed mailbox Gmail 1 added.")).to_be_visible()

        page.goto(f"{base_url}/campaigns/{campaign_id}")
        page.get_by_role("link", name="Inbox placement").click()
        expect(page.locator("#placement-start")).to_contain_text("Sends 2 copies: Gmail 1, Outlook 1.")
        page.get_by_role("button", name="Start a placement test").click()
        expect(page.get_by_text("Placement test started")).to_be_visible()

        # The page refreshes itself while the worker sends the copies and its tick finds them.
        expect(page.locator("#placement-inbox-share")).to_have_text("50.0 % of 2 sent", timeout=90_000)
        rows = page.get_by_role("region", name="Copies per seed").locator("tbody tr")
        expect(rows.filter(has_text="Gmail 1")).to_contain_text("inbox (INBOX)")
        expect(rows.filter(has_text="Outlook 1")).to_contain_text("spam (Junk)")
        expect(rows.filter(has_text="Gmail 1").locator("td").nth(2)).to_have_text("fail")  # not DKIM-signed
