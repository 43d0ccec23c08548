"""Settings → Providers in Chromium: an admin adds a Postmark provider, tests it against a local
server that speaks Postmark's API (a wrong token, then the right one), sees its secret never shown
back, and deletes it; its API address, on this machine, is refused until a private address is
allowed; an editor cannot open the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in_page
from tests.conftest import run_db
from tests.support.esp_apis import EspApi, esp_api
from webapp.providers import service as providers


async def saved(session) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Each provider's decrypted credentials and settings, as stored."""
    return [(providers.credentials(p), dict(p.settings)) for p in await providers.list_providers(session)]


@pytest.fixture
def postmark() -> Iterator[EspApi]:
    with esp_api("postmark") as api:
        yield api


def test_an_admin_adds_tests_and_deletes_a_provider(admin, page, base_url, postmark):
    sign_in_page(page, base_url, admin.email)
    page.goto(f"{base_url}/settings/providers")
    page.get_by_role("link", name="Add Postmark").click()
    page.get_by_label("Name").fill("Postmark news")
    page.get_by_label("Message stream").fill("broadcast")
    page.get_by_label("API address").fill(postmark.url)
    page.get_by_label("Server API token").fill("not-the-token")
    page.get_by_role("button", name="Add provider").click()
    expect(page.locator("#base_url-error")).to_contain_text("127.0.0.1 is a loopback address")
    expect(page.locator("#base_url-error")).to_contain_text("“Allow a private address” is ticked")
    expect(page.get_by_label("API address")).to_have_value(postmark.url)
    assert postmark.hosts == [] and run_db(saved) == []

    page.get_by_label("Allow a private address").check()
    page.get_by_label("Server API token").fill("not-the-token")
    page.get_by_role("button", name="Add provider").click()
    expect(page.get_by_text("Provider 'Postmark news' added.")).to_be_visible()
    expect(page.locator("#providers tbody tr")).to_contain_text(f"{postmark.url} (private address allowed)")

    page.get_by_role("button", name="Test Postmark news").click()
    expect(page.locator(".provider-test-result")).to_contain_text("the test failed")
    expect(page.locator(".provider-test-result")).to_contain_text("valid Server token")

    page.get_by_role("link", name="Edit Postmark news").click()
    expect(page.get_by_label("Allow a private address")).to_be_checked()
    assert page.get_by_label("Server API token").input_value() == ""
    assert "not-the-token" not in page.content()
    page.get_by_label("Server API token").fill(postmark.credentials["server_token"])
    page.get_by_role("button", name="Save provider").click()
    page.get_by_role("button", name="Test Postmark news").click()
    expect(page.locator(".provider-test-result")).to_contain_text("Signed in to Postmark server “Mailroom tests”")
    assert postmark.send_requests == 0, "the test sends nothing"

    assert run_db(saved) == [
        (
            {"server_token": postmark.credentials["server_token"]},
            {"message_stream": "broadcast", "base_url": postmark.url, "allow_private": True},
        )
    ]

    page.get_by_role("link", name="Postmark news", exact=True).click()
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete provider").click()
    expect(page.get_by_text("Provider 'Postmark news' deleted.")).to_be_visible()
    assert run_db(saved) == []


def test_a_provider_form_names_what_is_missing(admin, page, base_url):
    sign_in_page(page, base_url, admin.email)
    page.goto(f"{base_url}/settings/providers/new/mailgun")
    page.get_by_label("Name").fill("Mailgun EU")
    page.get_by_role("button", name="Add provider").click()
    expect(page.locator("#domain-error")).to_contain_text("Enter the sending domain")
    expect(page.locator("#api_key-error")).to_contain_text("Enter it")
    expect(page.locator("#api_key-hint")).not_to_contain_text("Type it again")

    page.get_by_label("API key").fill("key-typed")  # typed, then refused for the domain: it is not sent back
    page.get_by_role("button", name="Add provider").click()
    expect(page.locator("#domain-error")).to_contain_text("Enter the sending domain")
    expect(page.get_by_label("API key")).to_have_value("")
    expect(page.locator("#api_key-hint")).to_contain_text("Type it again: what was typed is not sent back")


def test_an_editor_cannot_open_the_providers(editor, page, base_url):
    sign_in_page(page, base_url, editor.email)
    response = page.goto(f"{base_url}/settings/providers")
    assert response is not None and response.status == 403
