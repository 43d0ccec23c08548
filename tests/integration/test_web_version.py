"""A message's web version ({{ web_version_url }}, /u/view/<the message's unsubscribe token>): the
message exactly as its recipient got it, served sandboxed; nothing for forged links, test sends,
transactional mail or a contact who is gone."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select, text

from tests.integration.test_tracking import sent_delivery
from tests.support.campaigns import HTML, audience, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink
from webapp.abtests.models import AbVariant
from webapp.campaigns.service import campaigns
from webapp.contacts.models import Contact
from webapp.core.tokens import TEST_DELIVERY_ID, make_token
from webapp.delivery.campaign_message import prepare, with_variant
from webapp.settings.service.organisation import OrgSettings
from webapp.templates.service.rendering import RenderedMessage

WITH_WEB_VERSION = HTML.replace("<body>", '<body>\n<p><a href="{{ web_version_url }}">View it in your browser</a></p>')
WEB_VERSION_LINK = re.compile(r'href="(https?://[^/"]+)(/u/view/[^"]+)"')


async def test_a_message_links_to_its_web_version_which_shows_exactly_what_was_sent(db, worker, live_server):
    email_list = await audience(db, 2)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id], html_content=WITH_WEB_VERSION)
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker()
        await wait_for_status(db, campaign.id, {"sent"})

    assert len(sink.messages) == 2
    for message in sink.messages:
        sent = message.get_body(("html",)).get_content()
        link = WEB_VERSION_LINK.search(sent)
        assert link is not None, sent
        base, path = link.groups()
        assert "/u/c/" in sent and "/u/unsubscribe/" in sent and "/u/o/" in sent  # tracked, footer, pixel

        shown = httpx.get(live_server + path)
        assert shown.status_code == 200, shown.text
        assert shown.headers["content-type"].startswith("text/html")
        as_sent = sent.replace(base, live_server).replace("\r\n", "\n")  # the worker's public URL is its own
        # A page for phones: the viewport line and the subject as its title, which an email may lack.
        for_browsers = (
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{message["Subject"]}</title>'
        )
        assert shown.text.count(for_browsers) == 1 and for_browsers not in as_sent
        assert shown.text.replace(for_browsers, "").strip() == as_sent.strip()
        first_name = message["To"].split("@")[0].replace("person", "Person")
        assert f"Hello {first_name}" in shown.text


async def test_the_web_version_is_sandboxed_private_and_answers_head(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    url = f"{live_server}/u/view/{make_token('unsubscribe', delivery_id)}"

    shown = httpx.get(url)
    assert shown.status_code == 200 and "Hello Person0" in shown.text
    policy = dict(part.strip().split(" ", 1) for part in shown.headers["content-security-policy"].split(";"))
    assert policy["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"  # no scripts, forms or same origin
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert (shown.headers["referrer-policy"], shown.headers["cache-control"]) == ("no-referrer", "no-store")
    assert shown.headers["x-robots-tag"] == "noindex"

    head = httpx.head(url)
    assert (head.status_code, head.content) == (200, b"")


async def test_no_web_version_for_forged_links_test_sends_transactional_mail_or_a_contact_gone(db, live_server):
    campaign_id, delivery_id, link_id = await sent_delivery(db)

    def shown(token: str) -> httpx.Response:
        return httpx.get(f"{live_server}/u/view/{token}")

    for token in (
        make_token("unsubscribe", delivery_id)[:-2] + "xx",
        make_token("click", delivery_id, link_id),  # a token for another purpose
        make_token("open", delivery_id),
        make_token("unsubscribe", delivery_id + 1000),
    ):
        assert shown(token).status_code == 404, token
    test_send = shown(make_token("unsubscribe", TEST_DELIVERY_ID))
    assert test_send.status_code == 404 and "A test email has no web version" in test_send.text

    await db.execute(text("UPDATE campaigns SET kind = 'transactional' WHERE id = :c"), {"c": campaign_id})
    await db.commit()
    transactional = shown(make_token("unsubscribe", delivery_id))
    assert transactional.status_code == 404 and "no web version" in transactional.text

    await db.execute(text("UPDATE campaigns SET kind = 'marketing' WHERE id = :c"), {"c": campaign_id})
    await db.execute(text("DELETE FROM contacts"))
    await db.commit()
    gone = shown(make_token("unsubscribe", delivery_id))
    assert gone.status_code == 404 and "no longer available" in gone.text


async def test_the_web_version_link_setting_adds_the_link_at_the_top_after_a_preheader(db):
    org = OrgSettings(organisation_name="Acme", postal_address="1 Main St")
    email_list = await audience(db, 1)
    on = await ready_campaign(
        db, [email_list.id], settings={"web_version_link": True}, text_content="Hello {{ first_name }}"
    )
    off = await ready_campaign(db, [email_list.id], name="Without", text_content="Hello")
    contact = await db.scalar(select(Contact))
    variant = AbVariant(label="A", preheader="Read me first")
    base = "https://mail.example.com"

    async def rendered(source) -> RenderedMessage:
        (message,) = await (await prepare(db, source, org, base)).render_contents([(7, contact)])
        assert isinstance(message, RenderedMessage)
        return message

    with_link = await rendered(with_variant(on, variant))
    link = f'<a href="{base}/u/view/{make_token("unsubscribe", 7)}">View it in your browser</a>'
    html = with_link.html
    assert html.index("Read me first") < html.index(link) < html.index("Hello Person0")  # the preheader stays first
    assert with_link.text.startswith(f"View it in your browser: {base}/u/view/{make_token('unsubscribe', 7)}\n")
    assert "View it in your browser" not in (await rendered(off)).html


async def test_the_words_mailroom_adds_are_in_each_recipients_language(db, worker, live_server):
    email_list = await audience(db, 2)
    await db.execute(text("UPDATE contacts SET language = 'es-MX' WHERE email = 'person1@example.com'"))
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id], text_content="Hello {{ first_name }}")
        await db.execute(
            text("""UPDATE campaigns SET settings = settings || '{"web_version_link": true}' WHERE id = :c"""),
            {"c": campaign.id},
        )
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker()
        await wait_for_status(db, campaign.id, {"sent"})

    by_address = {message["To"]: message for message in sink.messages}
    for address, words in (
        ("person0@example.com", ("Unsubscribe", "Manage preferences", "View it in your browser")),
        ("person1@example.com", ("Darme de baja", "Gestionar preferencias", "Verlo en el navegador")),
    ):
        html = by_address[address].get_body(("html",)).get_content()
        unsubscribe, preferences, web_version = words
        assert re.search(rf'/u/unsubscribe/[^"]+">{unsubscribe}</a> · <a href="[^"]+/u/preferences/', html), html
        assert f'">{preferences}</a>' in html and "/u/view/" in html and f">{web_version}</a>" in html
        plain = by_address[address].get_body(("plain",)).get_content()
        assert f"{web_version}: http" in plain and f"{unsubscribe}: http" in plain
        path = WEB_VERSION_LINK.search(html).group(2)
        page = httpx.get(live_server + path).text  # the page that line opens does not link to itself
        assert web_version not in page and "/u/view/" not in page and f">{unsubscribe}</a>" in page
