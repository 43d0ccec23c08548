"""Each message's envelope sender: a signed VERP address naming its delivery once a bounce address
is configured, the campaign's sender address otherwise."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.smtp import SmtpSink
from webapp.bounces.service import mailbox
from webapp.core import verp


async def _send_campaign(db, worker, sink) -> int:
    email_list = await audience(db, 5)
    await smtp_server(db, sink.port)
    campaign = await ready_campaign(db, [email_list.id])
    await sent_by_a_worker(db, worker, campaign.id)
    return campaign.id


async def test_with_a_bounce_address_each_message_goes_out_with_its_own_signed_return_path(db, worker):
    await mailbox.update(db, _form(bounce_address="bounces@bounce.example.com"))
    with SmtpSink() as sink:
        campaign_id = await _send_campaign(db, worker, sink)
    deliveries = dict(
        (await db.execute(text("SELECT email, id FROM deliveries WHERE campaign_id = :c"), {"c": campaign_id})).all()
    )
    for message, sender in zip(sink.messages, sink.handler.senders, strict=True):
        assert sender.startswith("bounces+") and sender.endswith("@bounce.example.com")
        assert verp.delivery_id(sender) == deliveries[message["To"]]
    assert len(set(sink.handler.senders)) == 5


async def test_without_a_bounce_address_the_return_path_is_the_sender(db, worker):
    with SmtpSink() as sink:
        await _send_campaign(db, worker, sink)
    assert len(sink.handler.senders) == 5
    assert set(sink.handler.senders) == {"news@example.com"}


def _form(**values: str) -> dict[str, str]:
    return {
        "bounce_address": "",
        "protocol": "imap",
        "host": "",
        "port": "993",
        "tls_mode": "tls",
        "username": "",
        "folder": "INBOX",
        "poll_minutes": "5",
    } | values
