"""Clicks on the email itself: a badge after each tracked link in the report's preview."""

from __future__ import annotations

import re

from webapp.analytics.pages.views import heat_on_email
from webapp.analytics.schemas import LinkActivity


def link(url: str, clicks: int) -> LinkActivity:
    return LinkActivity(link_id=1, url=url, clicks=clicks, unique_clicks=clicks, human_clicks=clicks)


def badges(html: str) -> list[str]:
    return re.findall(r"<span [^>]*>([^<]*)</span>", html)


def test_each_tracked_link_gets_its_clicks_and_share_right_after_it():
    html = (
        '<p><a href="https://example.com/a">A</a> and <A class="x" HREF=\'https://example.com/b?x=1&amp;y=2\'>'
        '<b>B</b></A> and <a href="https://elsewhere.example">untracked</a></p>'
    )
    shown = heat_on_email(html, [link("https://example.com/a", 3), link("https://example.com/b?x=1&y=2", 1)])
    assert badges(shown) == ["3 clicks · 75.0%", "1 click · 25.0%"]
    assert shown.index("75.0%") > shown.index("A</a>") and shown.index("25.0%") > shown.index("</A>")
    assert '<a href="https://elsewhere.example">untracked</a></p>' in shown


def test_the_most_clicked_links_are_the_hottest():
    shown = heat_on_email(
        '<a href="https://a.example">a</a><a href="https://b.example">b</a><a href="https://c.example">c</a>',
        [link("https://a.example", 75), link("https://b.example", 20), link("https://c.example", 5)],
    )
    colours = re.findall(r"background:(#\w+)", shown)
    assert colours == ["#b3261e", "#8f5500", "#4b5563"]


def test_no_clicks_yet_shows_zero_everywhere():
    assert badges(heat_on_email('<a href="https://a.example">a</a>', [link("https://a.example", 0)])) == [
        "0 clicks · 0.0%"
    ]
