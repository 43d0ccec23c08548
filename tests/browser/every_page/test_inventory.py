"""The page inventory keeps up with the app: a new staff page is checked by every page test."""

from tests.browser.every_page.inventory import NOT_PAGES, PUBLIC_PAGES, STAFF_PAGES
from tests.support.routes import staff_page_routes


def test_every_staff_page_route_is_in_the_inventory():
    listed = {shown.route or shown.path for shown in STAFF_PAGES + PUBLIC_PAGES} | set(NOT_PAGES)
    missing = sorted({route.template for route in staff_page_routes()} - listed)
    assert missing == [], "staff pages missing from tests/browser/every_page/inventory.py: " + ", ".join(missing)
