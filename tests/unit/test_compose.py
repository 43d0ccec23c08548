"""Hand-built MIME must parse cleanly with the standard library."""

from __future__ import annotations

import email
import re
from email import policy

import lxml.html

from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.smtp_session import smtp_address


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
    from webapp.delivery.queries import Claimed
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
        (raw,) = await prepared.render_batch([Claimed(7, 1, "b@example.com", "<7@m.example>", 0)], {})
        message = parse(raw)
        html = message.get_body(("html",)).get_content()
        assert "1 Road" in html
        assert ("/u/unsubscribe/" in html) is wanted
        assert "/u/unsubscribe/" in message["List-Unsubscribe"]  # the header is always there


RESPONSIVE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><style>
.card { background: #ffffff; padding: 24px; }
@media (max-width: 600px) { .card { padding: 12px !important; } }
</style></head>
<body>
<table role="presentation" width="100%"><tr><td align="center">
  <table role="presentation" width="600" class="card">
    <tr><td><h1>Hello {{ first_name | default("there") }}</h1></td></tr>
    <tr><td><p>Our spring collection is here. Take a look at what is new this season and find something.</p></td></tr>
    <tr><td align="center"><a href="https://example.com/shop">Shop now</a></td></tr>
  </table>
</td></tr></table>
</body></html>"""


async def campaign_message(html: str, text: str = "", **org_fields) -> bytes:
    from types import SimpleNamespace

    from webapp.delivery.campaign_message import prepare
    from webapp.delivery.queries import Claimed
    from webapp.settings.service.organisation import OrgSettings

    org = OrgSettings(**{"organisation_name": "Acme", "postal_address": "1 Main St\nSpringfield\nUSA", **org_fields})
    campaign = SimpleNamespace(
        id=1,
        subject="Grüße aus München — ein ziemlich langer Betreff, der gefaltet werden muss, ganz sicher",
        html_content=html,
        text_content=text,
        from_name="Zoë's Bäckerei und Konditorei am Marktplatz",
        from_email="news@example.com",
        reply_to="",
        settings={"track_clicks": False, "track_opens": True, "unsubscribe_link": True},
    )
    prepared = await prepare(None, campaign, org, "https://m.example")
    ada = SimpleNamespace(custom_fields={}, first_name="Ada")
    (raw,) = await prepared.render_batch([Claimed(7, 1, "b@example.com", "<7@m.example>", 0)], {1: ada})
    return raw


async def test_the_generated_text_part_is_not_padded():
    message = parse(await campaign_message(RESPONSIVE_HTML))
    text_part = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html_part = message.get_body(("html",)).get_content()
    lines = text_part.splitlines()
    assert "Hello Ada" in lines and "[Shop now](https://example.com/shop)" in lines
    assert all(line == line.strip() for line in lines), [line for line in lines if line != line.strip()]
    assert len(text_part) < len(html_part) / 2


async def test_postal_address_lines_stay_lines_in_html_and_text():
    generated = parse(await campaign_message("<p>Hi</p>"))
    assert "Acme<br>1 Main St<br>Springfield<br>USA" in generated.get_body(("html",)).get_content()
    text_part = generated.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Acme\n1 Main St\nSpringfield\nUSA" in text_part
    own_text = parse(await campaign_message("<p>Hi</p>", "Hi {{ first_name }}"))
    assert "Acme\n1 Main St\nSpringfield\nUSA" in own_text.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def test_the_organisation_is_printed_as_typed_never_read_as_template_syntax():
    org = {"organisation_name": 'Tom & "Jerry" {{ 7*7 }}', "postal_address": "1 Main St {% if 1 %}\n{# x #} O'Hare"}
    generated = parse(await campaign_message("<p>Hi</p>", **org))
    html_part = generated.get_body(("html",)).get_content()
    footer = lxml.html.fromstring(html_part).xpath("//div")[-1]
    assert list(footer.itertext())[:3] == ['Tom & "Jerry" {{ 7*7 }}', "1 Main St {% if 1 %}", "{# x #} O'Hare"]
    text_part = generated.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert 'Tom & "Jerry" {{ 7*7 }}\n1 Main St {% if 1 %}\n{# x #} O\'Hare' in text_part


async def test_folded_non_ascii_headers_use_crlf_only():
    raw = await campaign_message("<p>Hi</p>")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n " in head  # the long subject is folded
    assert re.search(rb"(?<!\r)\n", head) is None, "a bare LF in the header"
    message = parse(raw)
    assert not message.defects
    assert message["Subject"].startswith("Grüße aus München") and message["Subject"].endswith("ganz sicher")
    assert message["From"] == "Zoë's Bäckerei und Konditorei am Marktplatz <news@example.com>"


async def test_media_queries_stay_in_the_head_while_the_rest_is_inlined():
    html_part = parse(await campaign_message(RESPONSIVE_HTML)).get_body(("html",)).get_content()
    head = html_part.split("<body", 1)[0]
    assert "@media (max-width: 600px)" in head and ".card { padding: 12px !important; }" in head
    assert 'style="background: #ffffff;padding: 24px;"' in html_part


async def test_list_id_names_the_organisation_and_the_from_domain():
    message = parse(await campaign_message("<p>Hi</p>", organisation_name="Äcme, Inc."))
    assert message["List-Id"] == "Äcme, Inc. <newsletter.example.com>"  # an encoded word, decoded
    assert not message.defects
    plain = parse(await campaign_message("<p>Hi</p>", organisation_name="Acme, Inc."))
    assert plain["List-Id"] == '"Acme, Inc." <newsletter.example.com>'


def test_a_body_holding_the_boundary_line_keeps_its_two_parts():
    boundary = parse(build_message(Envelope("", "news@example.com", "ada@example.com", "Hi", "<1@x>"), "a", "b"))
    line = f"--{boundary.get_boundary()}"
    message = parse(
        build_message(Envelope("", "news@example.com", "ada@example.com", "Hi", "<2@x>"), f"{line}\n<p>x</p>", line)
    )
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_body(("html",)).get_content().startswith(f"{line}\r\n<p>x</p>")
