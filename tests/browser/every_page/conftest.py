"""One seeded site per test module and one signed-in browser context for all its pages: the page
tests open about a hundred pages, and seeding or signing in for each would make them slow."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_page
from tests.conftest import reset_state_sync, run_db
from tests.support.showcase import ADMIN_EMAIL, Showcase, seed


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


@pytest.fixture
def page(request, signed_in_context, visitor_context):
    """A new tab, signed in as an admin unless the test is parametrised with a page (`shown`) that
    a visitor sees. Still named `page`, so the CSP check (tests/browser/conftest.py) watches it."""
    callspec = getattr(request.node, "callspec", None)
    shown = callspec.params.get("shown") if callspec else None
    context = visitor_context if shown is not None and not shown.signed_in else signed_in_context
    tab = context.new_page()
    yield tab
    tab.close()
