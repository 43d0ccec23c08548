"""Hand-built MIME must parse cleanly with the standard library."""

from __future__ import annotations

import email
from email import policy

from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.mailer import smtp_address


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_message_parses_with_both_parts_and_headers():
    raw = build_message(
        Envelope(
            "Ünïcode News",
            "news@example.com",
            "ada@example.com",
            "Hëllo Ada — 50% off",
            "<1.2.x@example.com>",
            "reply@example.com",
            "<https://m.example/u/unsubscribe/t>",
        ),
        "<p>Hi Ada, 1 < 2 & café</p>" + "x" * 200,
        "Hi Ada\nline two",
    )
    message = parse(raw)
    assert not message.defects
    assert message["Subject"] == "Hëllo Ada — 50% off"
    assert message["From"] == "Ünïcode News <news@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == "reply@example.com"
    assert message.get_body(("html",)).get_content().startswith("<p>Hi Ada, 1 < 2 & café</p>xxx")
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Hi Ada\nline two")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_header_injection_is_impossible():
    raw = build_message(
        Envelope("x", "a@example.com", "b@example.com", "Hi\r\nBcc: victim@example.com", "<1@example.com>"),
        "<p>x</p>",
        "x",
    )
    assert parse(raw)["Bcc"] is None


def test_international_addresses():
    raw = build_message(Envelope("", "a@example.com", "chloé@exämple.com", "s", "<1@example.com>"), "x", "x")
    assert parse(raw)["To"] == "chloé@exämple.com"
    assert smtp_address("ada@exämple.com") == ("ada@xn--exmple-cua.com", False)
    assert smtp_address("chloé@example.com") == ("chloé@example.com", True)


async def test_footer_unsubscribe_link_follows_the_campaign_setting():
    from types import SimpleNamespace

    from webapp.delivery.campaign_message import prepare
    from webapp.settings.service.organisation import OrgSettings

    org = OrgSettings(organisation_name="Acme", postal_address="1 Road")
    for wanted in (True, False):
        campaign = SimpleNamespace(
            id=1,
            subject="s",
            html_content="<p>hi</p>",
            text_content="",
            from_name="",
            from_email="a@example.com",
            reply_to="",
            settings={"track_clicks": False, "track_opens": False, "unsubscribe_link": wanted},
        )
        prepared = await prepare(None, campaign, org, "https://m.example")
        raw = prepared.render(7, "<7@m.example>", "b@example.com", SimpleNamespace(custom_fields={}))
        message = parse(raw)
        html = message.get_body(("html",)).get_content()
        assert "1 Road" in html
        assert ("/u/unsubscribe/" in html) is wanted
        assert "/u/unsubscribe/" in message["List-Unsubscribe"]  # the header is always there
