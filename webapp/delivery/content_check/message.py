"""Mailroom's checks of the message itself, as a recipient's server receives it: its size, its
parts, its images and its links. Pure: bytes in, findings out (run in a process of its own, under
the limits of core/isolation.py, since the HTML is the user's)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Mapping
from email.message import EmailMessage
from urllib.parse import urlsplit

import lxml.html

from webapp.delivery.content_check.findings import Finding

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail shows "[Message clipped]" past this much HTML
WORDS_PER_IMAGE = 40  # fewer words than this per image reads as an image-only mailing to filters
# Public link shorteners: their links hide the destination, and spammers use them to dodge blocklists.
SHORTENERS = frozenset(
    "bit.ly bitly.com tinyurl.com goo.gl t.co ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc "
    "bl.ink t.ly rb.gy s.id v.gd lnkd.in soo.gd clck.ru qr.ae adf.ly shorte.st bit.do mcaf.ee su.pr".split()
)
# A link's visible text that reads as an address: "example.com", "www.example.com/offer", "https://..."
SHOWN_ADDRESS = re.compile(r"^\s*(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?\s*$", re.IGNORECASE)
WORD = re.compile(r"\w+")


def examine(raw: bytes, destinations: Mapping[str, str]) -> list[Finding]:
    """Findings about the message. `destinations` maps each click-tracking URL in it to the link
    it leads to, so links are judged by where they go, as a reader sees them."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    findings = []
    if text_part is None or not text_part.get_content().strip():
        findings.append(NO_TEXT_PART)
    if html_part is not None:
        encoded = html_part.get_payload(decode=False)
        if isinstance(encoded, str) and len(encoded.encode()) > GMAIL_CLIP_BYTES:
            findings.append(_clipped(len(encoded.encode())))
        findings.extend(_html_findings(html_part.get_content(), destinations))
    return findings


def _html_findings(html: str, destinations: Mapping[str, str]) -> list[Finding]:
    if not html.strip():
        return []
    document = lxml.html.document_fromstring(html)
    for hidden in document.xpath("//style | //script | //head"):
        hidden.drop_tree()
    findings = []
    images = [img for img in document.iter("img") if not _is_pixel(img)]
    if missing := [img.get("src", "") for img in images if not (img.get("alt") or "").strip()]:
        findings.append(_missing_alt(missing))
    words = len(WORD.findall(document.text_content()))
    if images and words < WORDS_PER_IMAGE * len(images):
        findings.append(_image_heavy(len(images), words))
    mismatched, shortened = [], []
    for link in document.iter("a"):
        href = (link.get("href") or "").strip()
        destination = destinations.get(href, href)
        host = _host(destination)
        if host is None:
            continue
        if host in SHORTENERS:
            shortened.append(destination)
        shown = SHOWN_ADDRESS.match(link.text_content())
        if shown and not _same_site(shown.group(1).lower(), host):
            mismatched.append((link.text_content().strip(), destination))
    if mismatched:
        findings.append(_mismatched(mismatched))
    if shortened:
        findings.append(_shortened(shortened))
    return findings


def _is_pixel(img: lxml.html.HtmlElement) -> bool:
    """The open-tracking pixel (1 x 1), which is not content."""
    return img.get("width") == "1" and img.get("height") == "1"


def _host(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


def _same_site(shown: str, host: str) -> bool:
    shown, host = shown.removeprefix("www."), host.removeprefix("www.")
    return shown == host or host.endswith("." + shown) or shown.endswith("." + host)


NO_TEXT_PART = Finding(
    code="text_part_missing",
    title="No plain-text part",
    explanation=(
        "The message has HTML only. Some people read mail as plain text, and spam filters count an "
        "HTML-only message against the sender."
    ),
    fix="Write a text version in the Content step, or leave it empty there and Mailroom generates one from the HTML.",
    points=0.7,
)


def _clipped(size: int) -> Finding:
    return Finding(
        code="gmail_clipping",
        title=f"The HTML is {size / 1024:.0f} KB: Gmail clips it",
        explanation=(
            f"Gmail shows only the first {GMAIL_CLIP_BYTES // 1024} KB of a message's HTML and hides the rest "
            "behind a “View entire message” link, with the footer and its unsubscribe link, and opens are not "
            "counted there."
        ),
        fix="Shorten the content, remove unused CSS and markup, or link to the full text on your site.",
        points=0.5,
    )


def _missing_alt(sources: list[str]) -> Finding:
    shown = ", ".join(s or "(no src)" for s in sources[:3]) + (" …" if len(sources) > 3 else "")
    return Finding(
        code="image_alt_missing",
        title=f"{len(sources)} image{'s' if len(sources) != 1 else ''} without alt text",
        explanation=(
            f"Most mail clients block images until the reader allows them, and screen readers read the alt text "
            f"instead: without it these show as empty boxes ({shown})."
        ),
        fix='Give every image an alt attribute saying what it shows, e.g. <img src="…" alt="Our spring collection">.',
        points=0.3,
    )


def _image_heavy(images: int, words: int) -> Finding:
    return Finding(
        code="image_text_ratio",
        title=f"Mostly images: {images} image{'s' if images != 1 else ''} and {words} words of text",
        explanation=(
            "Filters cannot read text inside images, so a message that is mostly images looks like it hides "
            "its content (a common spam trick), and shows as blank where images are blocked."
        ),
        fix=f"Put the message in text and keep images as illustration: at least {WORDS_PER_IMAGE} words per image.",
        points=1.0,
    )


def _mismatched(links: list[tuple[str, str]]) -> Finding:
    shown, destination = links[0]
    return Finding(
        code="link_text_domain_mismatch",
        title=f"{len(links)} link{'s' if len(links) != 1 else ''} showing one address and going to another",
        explanation=(
            f"The link text “{shown}” names another site than where it goes ({destination}). That is what "
            "phishing does, and filters score it as such."
        ),
        fix="Make the visible text the real destination, or use words (“Read the article”) instead of an address.",
        points=1.5,
    )


def _shortened(urls: list[str]) -> Finding:
    return Finding(
        code="url_shortener",
        title="Links through a URL shortener",
        explanation=(
            f"Shortened links ({', '.join(urls[:3])}) hide where they lead; spammers use them, so many filters "
            "penalise or block them whatever the destination."
        ),
        fix="Link to the full address: with click tracking on, Mailroom counts clicks anyway.",
        points=1.5,
    )
