"""axe-core (tests/browser/vendor/axe-core) run in a page: WCAG 2.1 A and AA rules only."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Also found by the audit, though axe files it under best practice: a column without a header says
# nothing to a screen reader (1.3.1).
MORE_RULES = ["empty-table-header"]


def violations(page: Page) -> list[dict]:
    """What axe finds on the page as it is now. The script is evaluated through Playwright, which the
    page's Content-Security-Policy does not govern (a <script> tag added to the page would break it)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    # One run: a rule enabled by name runs beside the tags' (axe's rules option overrides runOnly tags).
    return page.evaluate(
        """async ([tags, rules]) => (await axe.run(document, {
          runOnly: { type: "tag", values: tags },
          rules: Object.fromEntries(rules.map((rule) => [rule, { enabled: true }])),
        })).violations""",
        [WCAG_21_AA, MORE_RULES],
    )


SHOWN_NODES = 5  # a badge failing in every row of a table is one problem


def report(found: list[dict]) -> str:
    """One paragraph per rule: its id, impact and help, then the first failing elements and why."""
    lines = []
    for violation in found:
        nodes = violation["nodes"]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in nodes[:SHOWN_NODES]:
            lines.append(f"  at {' '.join(map(str, node['target']))}")
            lines.extend("    " + line for line in node["failureSummary"].splitlines())
        if len(nodes) > SHOWN_NODES:
            lines.append(f"  and {len(nodes) - SHOWN_NODES} more elements")
    return "\n".join(lines)


# Screen readers often say nothing when a live region is itself replaced (WCAG 4.1.3): a region
# stays and only its contents are swapped. These are the live regions an htmx control on the page
# would replace whole (hx-swap outerHTML, the default target being the control itself).
REPLACED_LIVE_REGIONS = """() => {
  const live = (e) => e && (e.hasAttribute("aria-live") || ["status", "log", "alert"].includes(e.getAttribute("role")));
  const found = [];
  for (const control of document.querySelectorAll("[hx-swap^=outerHTML]")) {
    const selector = control.getAttribute("hx-target");
    const target = selector ? document.querySelector(selector) : control;
    const by = control.tagName.toLowerCase() + (control.id ? "#" + control.id : "");
    if (live(target)) found.push(`${target.id ? "#" + target.id : target.tagName} (replaced by ${by})`);
  }
  return found;
}"""


def replaced_live_regions(page: Page) -> list[str]:
    found: list[str] = page.evaluate(REPLACED_LIVE_REGIONS)
    return found
