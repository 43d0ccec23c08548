"""A test send is the real message (DKIM, List-Unsubscribe, List-Id, footer with the postal
address, tracked links), marked in the subject; its links land on the real pages and record
nothing. HEAD on tracking and unsubscribe URLs answers as GET would and records nothing either."""

from __future__ import annotations

import re

import dkim
import httpx
from sqlalchemy import text

from tests.support.campaigns import HTML, audience, ready_campaign, smtp_server
from tests.support.events import apply_events
from tests.support.smtp import SmtpSink
from webapp.campaigns.models import Campaign
from webapp.core.tokens import make_token
from webapp.delivery.pipeline import message_id_domain
from webapp.settings.service import organisation as org_settings

ADDRESS = "1 Test Street\nTestville\nTT1 2AB"
NOTHING_RECORDED = """SELECT (SELECT count(*) FROM email_events) + (SELECT count(*) FROM suppressions)
    + (SELECT coalesce(sum(opened_count + clicked_count + unsubscribed_count), 0) FROM campaigns)
    + (SELECT count(*) FROM contacts WHERE status <> 'active' OR emails_opened + emails_clicked > 0)"""


async def signing_organisation(db) -> org_settings.OrgSettings:
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Mailroom Tests Ltd",
            postal_address=ADDRESS,
            default_from_email="news@example.com",
            dkim_domain="example.com",
            dkim_selector="mailroom",
        ),
    )
    return await org_settings.replace_dkim_key(db)


def dkim_verifies(raw: bytes, org: org_settings.OrgSettings) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return org.dkim_dns_record.encode() if name == b"mailroom._domainkey.example.com." else None

    return bool(dkim.verify(raw, dnsfunc=dns))


def check_real_message(message, raw: bytes, org) -> tuple[str, str]:
    """The parts every campaign message has; returns (html, text)."""
    assert dkim_verifies(raw, org)
    assert "list-id" in message["DKIM-Signature"].lower()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://127\.0\.0\.1:\d+/u/unsubscribe/[^>]+>", message["List-Unsubscribe"])
    assert message["List-Id"] == "Mailroom Tests Ltd <newsletter.example.com>"
    html_part = message.get_body(("html",)).get_content()
    text_part = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Mailroom Tests Ltd<br>1 Test Street<br>Testville<br>TT1 2AB" in html_part
    assert "1 Test Street\nTestville\nTT1 2AB" in text_part
    return html_part, text_part


async def test_a_campaign_test_send_is_the_real_message_and_its_links_record_nothing(staff, db):
    editor = await staff("editor")
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        email_list = await audience(db, 2)
        campaign_id = (await ready_campaign(db, [email_list.id])).id
        org = await signing_organisation(db)
        # The tester is a contact: the test is rendered for them, as they would get it
        await db.execute(text("INSERT INTO contacts (email, first_name) VALUES ('me@example.com', 'Mo')"))
        await db.commit()
        response = editor.post(f"/campaigns/{campaign_id}/review/test", data={"recipients": "me@example.com"})
        assert response.status_code == 200, response.text
        assert "Sent 1 test email, rendered for me@example.com." in response.text

        await db.execute(text("UPDATE campaigns SET subject = 'Hi {{ 1 / 0 }}'"))  # as if edited meanwhile
        await db.commit()
        broken = editor.post(f"/campaigns/{campaign_id}/review/test", data={"recipients": "me@example.com"})
        assert broken.status_code == 422 and 'id="recipients-error"' not in broken.text
        assert "Not sent: Subject: Line 1: The template failed: division by zero" in broken.text
        await db.execute(text("UPDATE campaigns SET subject = 'Hello {{ first_name }}'"))
        await db.commit()

    [message], [raw] = sink.messages, sink.handler.raw
    assert message["Subject"] == "[Test] Hello Mo" and message["To"] == "me@example.com"
    html_part, _ = check_real_message(message, raw, org)
    assert 'style="color: #223344' in html_part  # CSS inlined, as in the campaign
    assert message["Message-ID"].endswith(f"@{message_id_domain()}>")  # as the campaign's own messages

    click = re.search(r'href="(http://[^"]+/u/c/[^"]+)"', html_part).group(1)
    pixel = re.search(r'src="(http://[^"]+/u/o/[^"]+)"', html_part).group(1)
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert httpx.get(click).headers["location"] == "https://example.com/offer"
    assert httpx.get(pixel).headers["content-type"] == "image/gif"
    page = httpx.get(unsubscribe)
    assert page.status_code == 200 and "test email" in page.text
    assert httpx.post(unsubscribe).status_code == 200
    one_click = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and one_click.text == "Unsubscribed."
    preferences = re.search(r'href="(http://[^"]+/u/preferences/[^"]+)"', html_part).group(1)
    shown = httpx.get(preferences)
    assert shown.status_code == 200 and "test email" in shown.text and "Download my data" not in shown.text
    for action in ("save", "unsubscribe-all"):
        saved = httpx.post(preferences, data={"action": action, "topics_shown": "1", "language": "de"})
        assert saved.status_code == 200 and "test email" in saved.text
    await apply_events()
    db.expire_all()
    assert await db.scalar(text(NOTHING_RECORDED)) == 0
    assert (await db.get(Campaign, campaign_id)).status == "draft"


async def test_a_template_test_send_is_the_real_message_too(staff, db):
    editor = await staff("editor")
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        org = await signing_organisation(db)
        await db.commit()
        response = editor.post(
            "/templates/test-send",
            data={"name": "T", "subject": "Hi {{ first_name }}", "html_content": HTML, "recipients": "me@example.com"},
        )
        assert response.status_code == 200, response.text

    [message], [raw] = sink.messages, sink.handler.raw
    assert message["Subject"] == "[Test] Hi Jane"
    html_part, text_part = check_real_message(message, raw, org)
    assert "/u/unsubscribe/" in html_part and "Hello Jane" in text_part
    assert httpx.get(message["List-Unsubscribe"].strip("<>")).status_code == 200


async def test_head_answers_like_get_and_records_nothing(db, live_server):
    email_list = await audience(db, 1)
    campaign = await ready_campaign(db, [email_list.id])
    delivery_id = await db.scalar(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', now() FROM contacts RETURNING id"""),
        {"c": campaign.id},
    )
    link_id = await db.scalar(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/offer') RETURNING id"),
        {"c": campaign.id},
    )
    await db.commit()

    pixel = httpx.head(f"{live_server}/u/o/{make_token('open', delivery_id)}.gif")
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif" and pixel.content == b""
    click = httpx.head(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")
    assert click.status_code == 302 and click.headers["location"] == "https://example.com/offer"
    page = httpx.head(f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert httpx.head(f"{live_server}/u/c/{make_token('click', delivery_id, link_id + 1000)}").status_code == 404
    await apply_events()
    db.expire_all()
    assert await db.scalar(text(NOTHING_RECORDED)) == 0
