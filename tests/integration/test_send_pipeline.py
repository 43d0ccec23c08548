"""The send pipeline end to end: real worker processes, real PostgreSQL/Redis, a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC

import httpx

from tests.support.campaigns import (
    audience,
    delivery_counts,
    ready_campaign,
    sent_by_a_worker,
    smtp_server,
    wait_for_status,
)
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns


async def test_campaign_reaches_every_recipient_once_with_personalised_tracked_mail(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 60)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        done = await sent_by_a_worker(db, worker, campaign.id)

    assert done.total_recipients == 60 and done.sent_count == 60
    assert await delivery_counts(db, campaign.id) == {"sent": 60}
    recipients = sink.handler.recipients()
    assert sorted(recipients) == sorted(f"person{i}@example.com" for i in range(60))
    message = next(m for m in sink.messages if m["To"] == "person7@example.com")
    assert message["Subject"] == "Hello Person7"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http") and "/u/unsubscribe/" in message["List-Unsubscribe"]
    assert message["Message-ID"].startswith("<")
    html = message.get_body(("html",)).get_content()
    assert "Hello Person7" in html and "Company 0" in html
    assert 'style="color: #223344' in html  # CSS inlined
    assert "https://example.com/offer" not in html and "/u/c/" in html  # click tracked
    assert "/u/o/" in html  # open pixel
    assert "1 Test Street, Testville" in html and "Unsubscribe" in html
    text_part = message.get_body(("plain",)).get_content()
    assert "Hello Person7" in text_part


async def test_a_tracked_link_leads_where_its_html_says_with_character_references_decoded(db, worker, live_server):
    """`&amp;` is how HTML writes `&` in an attribute (editors write it so): the click must lead to
    `?x=1&y=2`, or the site gets a parameter named `amp;y`."""
    links = (
        '<a href="https://shop.example.com/p?x=1&amp;y=2">Shop</a> '
        '<a href="https://shop.example.com/q?utm_source=news&#38;utm_medium=email">Also</a> '
        '<a href="https://shop.example.com/r?&quot;quoted&quot;">Untracked</a>'
    )
    with SmtpSink() as sink:
        email_list = await audience(db, 1)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id], html_content=f"<p>{links}</p>")
        await sent_by_a_worker(db, worker, campaign.id)
    html = sink.messages[0].get_body(("html",)).get_content()
    tracked = re.findall(r'href="[^"]*(/u/c/[^"]+)"', html)
    targets = [httpx.get(live_server + path).headers["location"] for path in tracked]
    assert targets == [
        "https://shop.example.com/p?x=1&y=2",
        "https://shop.example.com/q?utm_source=news&utm_medium=email",
    ]
    assert 'href="https://shop.example.com/r?&quot;quoted&quot;"' in html  # a decoded quote is no plain URL


async def test_scheduled_campaign_starts_on_time_even_if_no_worker_ran_when_it_was_due(db, worker):
    import asyncio
    from datetime import datetime, timedelta

    with SmtpSink() as sink:
        email_list = await audience(db, 10)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        when = datetime.now(UTC) + timedelta(seconds=2)
        await campaigns.schedule(db, campaign.id, when.isoformat())
        await db.commit()
        await asyncio.sleep(3)  # due while every process is down
        worker()
        done = await wait_for_status(db, campaign.id, {"sent"}, timeout=60)
    assert done.sent_count == 10 and len(sink.messages) == 10
    assert done.started_at >= when


async def test_unsubscribed_bounced_and_inactive_contacts_get_nothing(db, worker):
    from sqlalchemy import text

    with SmtpSink() as sink:
        email_list = await audience(db, 10)
        await db.execute(text("UPDATE contacts SET status = 'unsubscribed' WHERE email = 'person1@example.com'"))
        await db.execute(text("UPDATE contacts SET status = 'bounced' WHERE email = 'person2@example.com'"))
        await db.execute(text("UPDATE contacts SET status = 'complained' WHERE email = 'person3@example.com'"))
        await db.execute(text("UPDATE contacts SET is_active = false WHERE email = 'person4@example.com'"))
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        done = await sent_by_a_worker(db, worker, campaign.id)
    assert done.total_recipients == 6
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in (0, 5, 6, 7, 8, 9))
