"""A template that fails for one recipient, sent by a real worker: that delivery fails with the
render error, everyone else in the batch gets their mail, and the campaign completes."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.support.campaigns import audience, delivery_counts, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.hostile import RECURSES_FOR_VIPS
from tests.support.smtp import SmtpSink
from webapp.campaigns.models import Delivery


async def test_one_recipients_data_fails_their_delivery_only_and_the_campaign_completes(db, worker):
    with SmtpSink() as sink:
        email_list = await audience(db, 12)
        await db.execute(
            text("""UPDATE contacts SET custom_fields = '{"vip": "yes"}' WHERE email = 'person5@example.com'""")
        )
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id], html_content=RECURSES_FOR_VIPS)
        done = await sent_by_a_worker(db, worker, campaign.id, timeout=90)

    assert await delivery_counts(db, campaign.id) == {"sent": 11, "failed": 1}
    assert (done.sent_count, done.failed_count) == (11, 1)
    failed = (await db.scalars(select(Delivery).where(Delivery.status == "failed"))).one()
    assert failed.email == "person5@example.com"
    assert failed.error_message.startswith("Template error: ") and "calls itself too deeply" in failed.error_message
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in range(12) if i != 5)
    person0 = next(m for m in sink.messages if m["To"] == "person0@example.com")
    assert "<p>Hi Person0</p>" in person0.get_body(("html",)).get_content()
