"""Settings → Bounce mailbox in Chromium: an admin fills in a real mailbox (Dovecot), tests it and
reads the answer next to the buttons, with a wrong password too, then saves it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settled, sign_in_page
from tests.conftest import run_db
from tests.support.dovecot import PASSWORD, USER, Dovecot
from webapp.bounces.service import mailbox


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def test_an_admin_tests_the_mailbox_and_saves_it(admin, page, base_url, dovecot):
    sign_in_page(page, base_url, admin.email)
    page.goto(f"{base_url}/settings/bounce-mailbox")
    page.get_by_label("Bounce address").fill("bounces@bounce.example.com")
    page.get_by_label("Host", exact=True).fill("127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(dovecot.imap_port))
    page.get_by_label("TLS mode").select_option("none")
    page.get_by_label("Username", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_label("Allow a private address").check()

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("alert")).to_contain_text("Connection failed: Sign-in failed")

    settled(page)  # the refused test's page is swapped in whole: type into the new form, not the old one
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_response(lambda response: response.url.endswith("/settings/bounce-mailbox/test")):
        page.get_by_role("button", name="Test connection").click()
    # A real IMAP sign-in, which a loaded machine may take a few seconds over.
    expect(page.get_by_role("status")).to_contain_text("Connected and signed in: 0 messages wait.", timeout=15_000)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Bounce mailbox settings saved.")).to_be_visible()
    saved = run_db(mailbox.load)
    assert (saved.host, saved.port, saved.password, saved.allow_private) == (
        "127.0.0.1",
        dovecot.imap_port,
        PASSWORD,
        True,
    )
