"""One seeded site per test module, and one signed-in browser tab for all its pages: the page tests
open about a hundred pages, and seeding, signing in or opening a tab for each would make them slow."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_page
from tests.conftest import reset_state_sync, run_db
from tests.support.showcase import ADMIN_EMAIL, Showcase, seed

WINDOW = {"width": 1280, "height": 720}  # Playwright's default


@pytest.fixture(scope="module")
def showcase(base_url) -> Showcase:
    reset_state_sync()
    return run_db(lambda session: seed(session, base_url))


@pytest.fixture(scope="module")
def signed_in_context(browser, base_url, showcase):
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(page, base_url, ADMIN_EMAIL)
    page.close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def visitor_context(browser, showcase):
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture(scope="module")
def signed_in_tab(signed_in_context):
    return signed_in_context.new_page()


@pytest.fixture(scope="module")
def visitor_tab(visitor_context):
    return visitor_context.new_page()


@pytest.fixture
def page(request, signed_in_tab, visitor_tab):
    """The module's tab, signed in as an admin unless the test is parametrised with a page (`shown`)
    that a visitor sees, at the context's window size. One tab for all the module's tests, since a new
    one costs Chromium a renderer process; each test opens its page in it. Still named `page`, so the
    CSP check (tests/browser/conftest.py) watches it."""
    callspec = getattr(request.node, "callspec", None)
    shown = callspec.params.get("shown") if callspec else None
    tab = visitor_tab if shown is not None and not shown.signed_in else signed_in_tab
    tab.set_viewport_size(WINDOW)
    return tab
