"""axe-core over every page of the inventory, including forms showing their errors: no violation of
WCAG 2.1 A or AA, and no live region that a partial update would replace whole."""

from __future__ import annotations

import pytest

from tests.browser.every_page.axe import replaced_live_regions, report, violations
from tests.browser.every_page.inventory import EVERY_PAGE


@pytest.mark.parametrize("shown", EVERY_PAGE, ids=lambda shown: shown.name)
def test_page_has_no_wcag_violations(shown, page, base_url, showcase):
    shown.open(page, base_url, showcase)
    found = violations(page)
    assert not found, f"axe found problems on {shown.name} ({page.url}):\n{report(found)}"
    assert not (replaced := replaced_live_regions(page)), f"live regions replaced whole on {shown.name}: {replaced}"


def test_the_check_catches_a_new_violation(page, base_url, showcase):
    """The harness itself: an unlabelled text box, faint text and a column without a header added
    to a clean page are reported."""
    page.goto(base_url + "/lists")
    assert report(violations(page)) == ""
    page.evaluate("""() => {
        const box = document.createElement("input");
        box.type = "text";
        const faint = document.createElement("p");
        faint.textContent = "Hard to read";
        faint.style.color = "#d0d0d0";
        const table = document.createElement("table");
        table.innerHTML = "<tr><th>Name</th><th></th></tr><tr><td>Ada</td><td>x</td></tr>";
        document.querySelector("main").append(box, faint, table);
    }""")
    found = report(violations(page))
    assert "label (critical): Form elements must have labels" in found
    assert "color-contrast (serious)" in found
    assert "empty-table-header (minor)" in found
