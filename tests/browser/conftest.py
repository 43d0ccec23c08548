"""Playwright drives Debian's Chromium, as its headless shell (never a downloaded browser), against the
live server."""

from __future__ import annotations

import os
from weakref import WeakKeyDictionary

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_PASSWORD, create_user, reset_state_sync, run_db

# Twice Playwright's 5 s for an expectation to come true: `make test` keeps both cores busy with four
# processes, and a page may take longer than that to answer while it does.
expect.set_options(timeout=10_000)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium-headless-shell"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


CSP = "Content Security Policy"
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy: ${e.effectiveDirective} refused ${e.blockedURI || "inline"} on ${e.documentURI}`))"""


_WATCHED: WeakKeyDictionary[Page, list[str]] = WeakKeyDictionary()  # a tab's refusals, since it was first watched


@pytest.fixture(autouse=True)
def csp_violations(request):
    """Every browser test using `page` also checks that nothing on its pages broke the
    Content-Security-Policy (Chromium logs each refusal to the console). A test that provokes one
    on purpose reads and empties the list. A tab several tests share is watched once."""
    if "page" not in request.fixturenames:
        yield []
        return
    page = request.getfixturevalue("page")
    found = _WATCHED.get(page)
    if found is None:
        found = _WATCHED[page] = []
        # Chromium does not log every refusal (not an eval whose error the page catches); the event always fires.
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", lambda message: found.append(message.text) if CSP in message.text else None)
    found.clear()
    yield found
    assert found == [], "Content-Security-Policy violations:\n" + "\n".join(found)


# Browser tests are plain (sync) functions: Playwright's sync API refuses to run inside an event
# loop. They arrange data with run_db(), which uses its own thread, loop and engine.


@pytest.fixture
def clean():
    """Browser tests start from an empty database (sync: Playwright owns the event loop)."""
    reset_state_sync()


def make_user(role: str):
    return run_db(lambda session: create_user(session, role))


@pytest.fixture
def editor(clean):
    return make_user("editor")


@pytest.fixture
def viewer(clean):
    return make_user("viewer")


@pytest.fixture
def admin(clean):
    return make_user("admin")


def sign_in_page(page, base_url: str, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")


def settled(page) -> None:
    """Wait until HTMX has swapped new content in and wired it up (its triggers are attached in the
    settle step, 20 ms after the content appears), as a person would before typing into it."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)
