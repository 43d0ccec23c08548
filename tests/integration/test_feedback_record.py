"""feedback.service.record: provider reports (ESP webhooks, bounce mail) stored once each and applied
set-based, against real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, text

from tests.integration.test_webhooks_events import queued, subscribe_everything
from tests.support.campaigns import audience, ready_campaign
from tests.support.locks import waiting_for_a_lock
from webapp.analytics import service as analytics
from webapp.campaigns.models import Campaign, Delivery
from webapp.campaigns.service.audience import materialise_campaign
from webapp.contacts.models import Contact
from webapp.core.db import get_sessionmaker
from webapp.delivery import queries as deliveries
from webapp.delivery.queries import Outcome
from webapp.feedback import service as feedback
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.suppression.models import Suppression
from webapp.suppression.service import suppression

AT = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
HOOK = "http://127.0.0.1:9/hook"


async def sent_campaign(db, size: int = 3, name: str = "Audience") -> tuple[int, list]:
    """A campaign sent to `size` contacts (person0@example.com ...), each with its Message-ID; its
    deliveries as rows (id, campaign_id, email, message_id) that outlive the session's expiry."""
    email_list = await audience(db, size, name=name)
    campaign = await ready_campaign(db, [email_list.id], name=name)
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, message_id)
                SELECT :c, id, email, 'sent', now(), '<' || id || '.' || :c || '@mail.example.com>'
                FROM contacts ORDER BY id"""),
        {"c": campaign.id},
    )
    await db.execute(
        text("UPDATE campaigns SET status = 'sent', sent_count = :n, total_recipients = :n WHERE id = :c"),
        {"c": campaign.id, "n": size},
    )
    await db.commit()
    campaign_id = campaign.id
    deliveries = await db.execute(
        text("SELECT id, campaign_id, email, message_id FROM deliveries WHERE campaign_id = :c ORDER BY id"),
        {"c": campaign_id},
    )
    return campaign_id, list(deliveries.all())


def report(kind: FeedbackKind, email: str, source_id: str = "r1", **fields) -> FeedbackEvent:
    return FeedbackEvent(source=FeedbackSource.GENERIC, source_id=source_id, kind=kind, email=email, at=AT, **fields)


def hard_bounce(email: str, source_id: str = "b1", **fields) -> FeedbackEvent:
    detail = "550 5.1.1 <" + email + ">: user unknown"
    return report(FeedbackKind.BOUNCED, email, source_id, bounce_type="hard", detail=detail, **fields)


async def record(db, events: list[FeedbackEvent]) -> feedback.Recorded:
    recorded = await feedback.record(db, events)
    await db.commit()
    db.expire_all()
    return recorded


async def campaign(db, campaign_id: int) -> Campaign:
    db.expire_all()
    found = await db.get(Campaign, campaign_id)
    assert found is not None
    return found


async def contact_status(db, email: str) -> str:
    return await db.scalar(select(Contact.status).where(Contact.email == email))


async def test_delivered_moves_a_sent_delivery_and_counts_once_per_delivery(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (first, second, _) = await sent_campaign(db)
    await db.execute(text("UPDATE deliveries SET status = 'opened' WHERE id = :d"), {"d": second.id})
    await db.commit()

    recorded = await record(
        db,
        [
            report(FeedbackKind.DELIVERED, first.email, "d1", message_id=first.message_id),
            report(FeedbackKind.DELIVERED, second.email, "d2", message_id=second.message_id),
            report(FeedbackKind.DELIVERED, first.email, "d3", delivery_id=first.id),  # another report of it
        ],
    )

    assert (recorded.received, recorded.new, recorded.repeated, len(recorded.event_ids)) == (3, 3, 0, 3)
    statuses = dict((await db.execute(text("SELECT id, status FROM deliveries"))).all())
    assert (statuses[first.id], statuses[second.id]) == ("delivered", "opened")  # status only moves forward
    assert (await campaign(db, campaign_id)).delivered_count == 2
    kinds = (
        await db.scalars(text("SELECT kind FROM email_events WHERE id = ANY(:ids)"), {"ids": recorded.event_ids})
    ).all()
    assert kinds == ["delivered"] * 3
    delivered = [data for kind, data in await queued(db) if kind == "email.delivered"]
    assert sorted(d["delivery_id"] for d in delivered) == [first.id, second.id]


async def test_the_same_batch_recorded_twice_counts_once(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (first, second, third) = await sent_campaign(db)
    batch = [
        report(FeedbackKind.DELIVERED, first.email, "d1", message_id=first.message_id),
        hard_bounce(second.email, message_id=second.message_id),
        report(FeedbackKind.COMPLAINED, third.email, "c1", message_id=third.message_id),
        report(FeedbackKind.OPENED, first.email, "o1", message_id=first.message_id),
    ]
    before = await record(db, batch)
    events_before = await db.scalar(text("SELECT count(*) FROM email_events"))
    webhooks_before = len(await queued(db))

    again = await record(db, batch)

    assert (before.new, before.repeated) == (4, 0)
    assert (again.new, again.repeated, again.event_ids) == (0, 4, [])
    assert await db.scalar(text("SELECT count(*) FROM email_events")) == events_before == 4
    assert len(await queued(db)) == webhooks_before
    counted = await campaign(db, campaign_id)
    assert (counted.delivered_count, counted.bounced_count, counted.complained_count, counted.opened_count) == (
        1,
        1,
        1,
        1,
    )


async def test_a_report_repeated_inside_one_batch_counts_once(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (first, second, _) = await sent_campaign(db)
    delivered = report(FeedbackKind.DELIVERED, first.email, "d1", message_id=first.message_id)
    bounced = hard_bounce(second.email, message_id=second.message_id)

    recorded = await record(db, [delivered, bounced, delivered, bounced])

    assert (recorded.new, recorded.repeated, len(recorded.event_ids)) == (2, 2, 2)
    assert sorted(kind for kind, _ in await queued(db)) == ["email.bounced", "email.delivered"]
    counted = await campaign(db, campaign_id)
    assert (counted.delivered_count, counted.bounced_count) == (1, 1)


async def test_recorded_reports_reach_the_campaigns_report_once(db):
    campaign_id, (first, second, third) = await sent_campaign(db)
    batch = [
        report(FeedbackKind.DELIVERED, first.email, "d1", message_id=first.message_id),
        hard_bounce(second.email, message_id=second.message_id),
        report(FeedbackKind.BOUNCED, third.email, "s1", message_id=third.message_id, bounce_type="soft"),
        report(FeedbackKind.COMPLAINED, first.email, "c1", message_id=first.message_id),
        report(FeedbackKind.UNSUBSCRIBED, third.email, "u1", message_id=third.message_id),
    ]
    await record(db, batch)
    await record(db, batch)

    totals = await analytics.campaign_summary(db, campaign_id)
    assert (totals.delivered, totals.hard_bounces, totals.soft_bounces, totals.complaints, totals.unsubscribes) == (
        1,
        1,
        1,
        1,
        1,
    )


async def test_a_hard_bounce_has_the_send_pipelines_effects_and_the_next_campaign_skips_the_address(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (first, bounced, _) = await sent_campaign(db)

    recorded = await record(db, [hard_bounce(bounced.email, message_id=bounced.message_id)])

    assert recorded.new == 1
    row = await db.get(Delivery, bounced.id)
    assert row is not None and row.status == "bounced" and row.bounced_at == AT
    assert "550 5.1.1" in row.error_message
    assert await contact_status(db, bounced.email) == "bounced"
    assert (await campaign(db, campaign_id)).bounced_count == 1
    entry = await db.scalar(select(Suppression).where(Suppression.email == bounced.email))
    assert entry is not None and entry.reason == "bounce" and "550 5.1.1" in entry.note
    detail = await db.scalar(text("SELECT detail FROM email_events WHERE kind = 'bounce'"))
    assert detail.startswith("hard: 550 5.1.1")
    bounces = [data for kind, data in await queued(db) if kind == "email.bounced"]
    assert [(b["delivery_id"], b["type"]) for b in bounces] == [(bounced.id, "hard")]

    email_list = await audience(db, 3, name="Next")
    next_campaign = await ready_campaign(db, [email_list.id], name="Next")
    await materialise_campaign(db, next_campaign.id)
    recipients = await db.scalars(
        select(Delivery.email).where(Delivery.campaign_id == next_campaign.id, Delivery.status == "pending")
    )
    assert bounced.email not in set(recipients)
    assert first.email in set(await db.scalars(select(Delivery.email).where(Delivery.campaign_id == next_campaign.id)))


async def test_a_bounce_is_matched_by_delivery_id_then_message_id_then_the_latest_message_to_the_address(db):
    _, (by_id, by_message_id, by_email) = await sent_campaign(db)
    later_id, _ = await sent_campaign(db, name="Later")  # the same three addresses, sent again later

    await record(
        db,
        [
            hard_bounce(by_id.email, "b1", delivery_id=by_id.id, message_id="<not-ours@elsewhere>"),
            hard_bounce(by_message_id.email, "b2", message_id=by_message_id.message_id),
            hard_bounce(by_email.email.upper(), "b3", message_id="<unknown@example.net>"),  # falls through
        ],
    )

    bounced = dict((await db.execute(text("SELECT email, campaign_id FROM deliveries WHERE status = 'bounced'"))).all())
    assert bounced[by_id.email] == by_id.campaign_id
    assert bounced[by_message_id.email] == by_message_id.campaign_id
    assert bounced[by_email.email] == later_id  # the recipient's latest message
    assert len(bounced) == 3


async def test_a_soft_bounce_is_recorded_and_suppresses_nothing(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (soft, _, _) = await sent_campaign(db)

    recorded = await record(
        db, [report(FeedbackKind.BOUNCED, soft.email, "s1", bounce_type="soft", detail="452 4.2.2 mailbox full")]
    )

    assert recorded.new == 1
    assert await contact_status(db, soft.email) == "active"
    assert not await suppression.is_suppressed(db, soft.email)
    assert (await campaign(db, campaign_id)).bounced_count == 0
    assert await db.scalar(text("SELECT detail FROM email_events")) == "soft: 452 4.2.2 mailbox full"
    assert [d["type"] for kind, d in await queued(db) if kind == "email.bounced"] == ["soft"]


async def test_a_complaint_suppresses_and_is_one_opt_out(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (complainer, _, _) = await sent_campaign(db)

    await record(db, [report(FeedbackKind.COMPLAINED, complainer.email, "c1", message_id=complainer.message_id)])
    await record(db, [report(FeedbackKind.COMPLAINED, complainer.email, "c2", delivery_id=complainer.id)])

    assert await contact_status(db, complainer.email) == "complained"
    entry = await db.scalar(select(Suppression).where(Suppression.email == complainer.email))
    assert entry is not None and entry.reason == "complaint"
    assert (await db.get(Delivery, complainer.id)).status == "complained"
    assert (await campaign(db, campaign_id)).complained_count == 1
    events = await queued(db)
    assert [d["email"] for kind, d in events if kind == "contact.unsubscribed"] == [complainer.email]
    assert len([kind for kind, _ in events if kind == "email.complained"]) == 2  # each report is told


async def test_a_complaint_from_an_unsubscribed_contact_is_no_second_opt_out(db):
    await subscribe_everything(db, HOOK)
    _, (unsubscribed, _, _) = await sent_campaign(db)
    await record(db, [report(FeedbackKind.UNSUBSCRIBED, unsubscribed.email, "u1", message_id=unsubscribed.message_id)])
    await record(db, [report(FeedbackKind.COMPLAINED, unsubscribed.email, "c1", message_id=unsubscribed.message_id)])

    assert await contact_status(db, unsubscribed.email) == "complained"
    assert [kind for kind, _ in await queued(db) if kind == "contact.unsubscribed"] == ["contact.unsubscribed"]


async def test_an_unsubscribe_report_takes_the_one_click_path(db):
    await subscribe_everything(db, HOOK)
    campaign_id, (leaver, _, _) = await sent_campaign(db)
    batch = [report(FeedbackKind.UNSUBSCRIBED, leaver.email, "u1", message_id=leaver.message_id)]

    await record(db, batch)
    await record(db, batch)

    assert await contact_status(db, leaver.email) == "unsubscribed"
    assert (await db.get(Delivery, leaver.id)).status == "unsubscribed"
    assert (await campaign(db, campaign_id)).unsubscribed_count == 1
    entry = await db.scalar(select(Suppression).where(Suppression.email == leaver.email))
    assert entry is not None and entry.reason == "unsubscribe"
    assert await db.scalar(text("SELECT count(*) FROM email_events WHERE kind = 'unsubscribe'")) == 1
    assert [kind for kind, _ in await queued(db) if kind == "contact.unsubscribed"] == ["contact.unsubscribed"]


async def test_an_unsubscribe_about_a_contact_sent_nothing_yet_unsubscribes_the_contact(db):
    """A provider may report an opt-out for an address before we sent it anything (a message still
    in flight, or mail another system sent): the contact we know still opts out."""
    await subscribe_everything(db, HOOK)
    db.add_all([Contact(email="waiting@example.com"), Contact(email="unsure@example.com", status="pending")])
    await db.commit()

    recorded = await record(
        db,
        [
            report(FeedbackKind.UNSUBSCRIBED, "Waiting@Example.com", "u1"),
            report(FeedbackKind.COMPLAINED, "unsure@example.com", "c1"),
            report(FeedbackKind.UNSUBSCRIBED, "stranger@example.com", "u2"),
        ],
    )

    assert (recorded.new, recorded.unmatched) == (2, 1)
    assert await contact_status(db, "waiting@example.com") == "unsubscribed"
    assert await contact_status(db, "unsure@example.com") == "complained"  # never confirmed, and now never will
    reasons = dict((await db.execute(select(Suppression.email, Suppression.reason))).all())
    assert reasons == {"waiting@example.com": "unsubscribe", "unsure@example.com": "complaint"}
    unsubscribed = [d["email"] for kind, d in await queued(db) if kind == "contact.unsubscribed"]
    assert unsubscribed == ["waiting@example.com"]  # the unconfirmed contact was not subscribed


async def test_a_report_finds_the_contact_however_its_address_is_encoded(db):
    db.add(Contact(email="zo\u00eb@example.com"))  # NFC, as contacts are stored
    await db.commit()
    await record(db, [report(FeedbackKind.COMPLAINED, "ZOE\u0308@EXAMPLE.COM", "c1")])  # NFD, upper case
    assert await contact_status(db, "zo\u00eb@example.com") == "complained"


async def test_opens_and_clicks_are_counted_by_tracking(db):
    campaign_id, (reader, _, _) = await sent_campaign(db)
    await db.execute(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/offer')"), {"c": campaign_id}
    )
    await db.commit()

    await record(
        db,
        [
            report(FeedbackKind.OPENED, reader.email, "o1", message_id=reader.message_id, user_agent="Mail/1"),
            report(
                FeedbackKind.CLICKED, reader.email, "k1", message_id=reader.message_id, url="https://example.com/offer"
            ),
        ],
    )

    counted = await campaign(db, campaign_id)
    assert (counted.opened_count, counted.clicked_count) == (1, 1)
    row = await db.get(Delivery, reader.id)
    assert row is not None and row.status == "clicked"
    link = await db.scalar(text("SELECT link_id FROM email_events WHERE kind = 'click'"))
    assert link is not None
    contact = await db.scalar(select(Contact).where(Contact.email == reader.email))
    assert (contact.emails_opened, contact.emails_clicked) == (1, 1)


async def test_reports_about_nothing_we_sent(db):
    """A hard bounce for an address we know but never sent to still suppresses it; a report about an
    address we do not know, or a delivered report for no message, is dropped."""
    await audience(db, 1)
    await db.commit()

    recorded = await record(
        db,
        [
            hard_bounce("Person0@example.com", "b1"),
            hard_bounce("stranger@example.org", "b2"),
            report(FeedbackKind.DELIVERED, "person0@example.com", "d1", message_id="<gone@example.com>"),
        ],
    )

    assert (recorded.new, recorded.unmatched) == (1, 2)
    assert await contact_status(db, "person0@example.com") == "bounced"
    assert await suppression.is_suppressed(db, "person0@example.com")
    assert not await suppression.is_suppressed(db, "stranger@example.org")


async def test_the_same_report_recorded_by_two_transactions_at_once_counts_once(db):
    """Two webhook requests carrying the same report (a provider's retry while the first is still
    being recorded): the second waits for the first and then finds its report stored."""
    campaign_id, (bounced, _, _) = await sent_campaign(db)
    batch = [hard_bounce(bounced.email, message_id=bounced.message_id)]
    sessions = get_sessionmaker()
    async with sessions() as first, sessions() as second:
        assert (await feedback.record(first, batch)).new == 1
        late = asyncio.create_task(feedback.record(second, batch))
        await waiting_for_a_lock(db)
        await first.commit()
        assert (await late).new == 0
        await second.commit()
    assert (await campaign(db, campaign_id)).bounced_count == 1


async def test_a_batch_of_unsubscribes_opts_each_contact_out_once(db):
    await subscribe_everything(db, HOOK)
    campaign_id, deliveries = await sent_campaign(db)
    batch = [report(FeedbackKind.UNSUBSCRIBED, d.email, f"u{d.id}", delivery_id=d.id) for d in deliveries]

    again = report(FeedbackKind.UNSUBSCRIBED, deliveries[0].email, "again", delivery_id=deliveries[0].id)
    await record(db, [*batch, again])

    assert (await campaign(db, campaign_id)).unsubscribed_count == 3
    assert {await contact_status(db, d.email) for d in deliveries} == {"unsubscribed"}
    announced = [d["email"] for kind, d in await queued(db) if kind == "contact.unsubscribed"]
    assert sorted(announced) == sorted(d.email for d in deliveries)
    sources = set(await db.scalars(select(Suppression.source)))
    assert sources == {f"campaign {campaign_id}: generic unsubscribe"}


async def test_a_delivered_report_that_overtakes_the_send_batch_is_kept(db):
    """A provider may report a message delivered before the worker that sent it records its batch."""
    campaign_id, (first, _, _) = await sent_campaign(db)
    await db.execute(text("UPDATE deliveries SET status = 'sending', sent_at = NULL WHERE id = :d"), {"d": first.id})
    await db.commit()

    await record(db, [report(FeedbackKind.DELIVERED, first.email, "d1", message_id=first.message_id)])
    recorded = await deliveries.record_outcomes(db, campaign_id, [Outcome(first.id, "sent")], cancelled_error="")
    await db.commit()

    assert [r.status for r in recorded] == ["sent"]  # counted as sent
    row = await db.get(Delivery, first.id)
    assert row is not None and row.status == "delivered" and row.sent_at is not None
    assert (await campaign(db, campaign_id)).delivered_count == 1
