"""Mailroom's checks of a message as received (pure: bytes in, findings out)."""

from __future__ import annotations

from email.message import EmailMessage

from webapp.delivery.content_check import message


def mail(html: str, text: str | None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "news@example.com", "jane@example.com", "News"
    if text is not None:
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html, subtype="html")
    return msg.as_bytes()


WORDS = "words " * 50


def test_an_html_only_message_lacks_a_text_part():
    found = message.examine(mail(f"<p>{WORDS}</p>", None), {})
    assert [f.code for f in found] == ["text_part_missing"]
    assert [f.code for f in message.examine(mail(f"<p>{WORDS}</p>", "  \n"), {})] == ["text_part_missing"]


def test_a_link_showing_its_own_site_or_a_subdomain_is_fine_and_the_pixel_is_no_image():
    html = f"""<p>{WORDS}</p><a href="https://shop.example.com/x">www.example.com</a>
    <a href="https://example.com/">https://example.com</a><a href="mailto:a@example.org">example.org</a>
    <img src="https://t.example.com/o.gif" width="1" height="1">"""
    assert message.examine(mail(html, WORDS), {}) == []


def test_tracked_links_are_judged_by_their_destination():
    html = f'<p>{WORDS}</p><a href="https://mailroom.test/u/c/tok">example.com</a>'
    assert message.examine(mail(html, WORDS), {"https://mailroom.test/u/c/tok": "https://example.com/a"}) == []
    assert [f.code for f in message.examine(mail(html, WORDS), {})] == ["link_text_domain_mismatch"]
