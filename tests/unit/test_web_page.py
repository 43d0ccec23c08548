"""A message's HTML as a browser page (the web version and the archive): phones lay a page without
a viewport line out 980 pixels wide, and a tab without a title is blank."""

from __future__ import annotations

import pytest

from webapp.campaigns.service.web_version import as_web_page

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def test_a_fragment_gets_a_document_with_the_subject_as_its_title():
    page = as_web_page("<p>Hi <b>Ann</b></p>", "News & <offers>")
    assert page.startswith("<!doctype html>")
    assert f'<head><meta charset="utf-8">{VIEWPORT}<title>News &amp; &lt;offers&gt;</title></head>' in page
    assert "<body><p>Hi <b>Ann</b></p></body>" in page


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("<html><body>x</body></html>", f'<html><head><meta charset="utf-8">{VIEWPORT}<title>S</title></head><body>'),
        ("<HTML lang=en><HEAD></HEAD><body>x", f"<HTML lang=en><HEAD>{VIEWPORT}<title>S</title></HEAD>"),
        ("<html><head><title>Own</title></head>", f"<html><head>{VIEWPORT}<title>Own</title></head>"),
        (
            "<html><head><meta name='viewport' content='width=600'></head>",
            "<head><title>S</title><meta name='viewport'",
        ),
    ],
)
def test_a_document_gets_only_what_it_lacks(sent, shown):
    page = as_web_page(sent, "S")
    assert shown in page
    assert page.count("<title") == 1 and page.lower().count("viewport") == 1


def test_a_complete_page_is_left_as_it_is():
    sent = f"<html><head>{VIEWPORT}<title>T</title></head><body>x</body></html>"
    assert as_web_page(sent, "S") == sent


def test_the_line_mailroom_adds_to_open_the_page_is_left_out_of_it():
    from webapp.delivery.campaign_message import WEB_VERSION_LINK_HTML

    added = WEB_VERSION_LINK_HTML.replace("{{ web_version_url }}", "https://m.example/u/view/t").replace(
        "{{ mailroom_words.web_version }}", "View it in your browser"
    )
    page = as_web_page(f"<html><body>{added}<p>News</p><div>kept</div></body></html>", "S")
    assert "View it in your browser" not in page and "/u/view/" not in page
    assert "<p>News</p><div>kept</div>" in page
