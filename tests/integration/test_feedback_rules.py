"""The soft-bounce rule: N soft-bounced messages within D days (Settings -> Bounces and complaints)
trigger the chosen action; fewer, older or repeated reports do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from tests.integration.test_feedback_record import record, sent_campaign
from tests.integration.test_webhooks_events import queued, subscribe_everything
from webapp.contacts.models import Contact
from webapp.core.errors import ValidationFailed
from webapp.feedback.schemas import FeedbackEvent, FeedbackKind, FeedbackSource
from webapp.feedback.service import rules
from webapp.suppression.models import Suppression

EMAIL = "person0@example.com"
HOOK = "http://127.0.0.1:9/hook"


async def three_messages(db) -> list:
    """Three campaigns sent to person0 (and two others): the person's three deliveries."""
    mine = []
    for name in ("First", "Second", "Third"):
        _, deliveries = await sent_campaign(db, name=name)
        mine += [d for d in deliveries if d.email == EMAIL]
    return mine


def soft_bounce(delivery, source_id: str, days_ago: float = 0) -> FeedbackEvent:
    return FeedbackEvent(
        source=FeedbackSource.SES,
        source_id=source_id,
        kind=FeedbackKind.BOUNCED,
        email=delivery.email,
        at=datetime.now(UTC) - timedelta(days=days_ago),
        delivery_id=delivery.id,
        bounce_type="soft",
        detail="452 4.2.2 Mailbox full",
    )


async def status(db) -> str | None:
    db.expire_all()
    return await db.scalar(select(Contact.status).where(Contact.email == EMAIL))


async def suppressed_for(db) -> str | None:
    return await db.scalar(select(Suppression.reason).where(Suppression.email == EMAIL))


async def test_by_default_three_soft_bounced_messages_in_seven_days_suppress_like_a_hard_bounce(db):
    first, second, third = await three_messages(db)
    assert await rules.load(db) == rules.BounceRules(3, 7, "suppress")

    await record(db, [soft_bounce(first, "s1"), soft_bounce(second, "s2")])
    await record(db, [soft_bounce(second, "s2-again-from-the-mailbox")])  # the same message: counts once
    assert (await status(db), await suppressed_for(db)) == ("active", None)

    await record(db, [soft_bounce(third, "s3")])
    assert (await status(db), await suppressed_for(db)) == ("bounced", "bounce")


async def test_soft_bounces_older_than_the_window_do_not_count(db):
    first, second, third = await three_messages(db)
    await record(db, [soft_bounce(first, "s1", days_ago=8), soft_bounce(second, "s2"), soft_bounce(third, "s3")])
    assert (await status(db), await suppressed_for(db)) == ("active", None)


async def test_the_unsubscribe_action_is_an_opt_out_announced_once(db):
    await subscribe_everything(db, HOOK)
    await rules.update(db, {"soft_bounce_limit": "2", "soft_bounce_days": "30", "soft_bounce_action": "unsubscribe"})
    first, second, third = await three_messages(db)

    await record(db, [soft_bounce(first, "s1"), soft_bounce(second, "s2")])
    await record(db, [soft_bounce(third, "s3")])

    assert (await status(db), await suppressed_for(db)) == ("unsubscribed", "unsubscribe")
    assert [d["email"] for kind, d in await queued(db) if kind == "contact.unsubscribed"] == [EMAIL]


async def test_the_delete_action_keeps_the_address_suppressed(db):
    await rules.update(db, {"soft_bounce_limit": "1", "soft_bounce_days": "1", "soft_bounce_action": "delete"})
    first, _, _ = await three_messages(db)

    await record(db, [soft_bounce(first, "s1")])

    assert await status(db) is None  # deleted
    assert await suppressed_for(db) == "bounce"
    assert await db.scalar(text("SELECT count(*) FROM contacts")) == 2


async def test_the_none_action_only_counts(db):
    await rules.update(db, {"soft_bounce_limit": "1", "soft_bounce_days": "7", "soft_bounce_action": "none"})
    first, second, _ = await three_messages(db)
    await record(db, [soft_bounce(first, "s1"), soft_bounce(second, "s2")])
    assert (await status(db), await suppressed_for(db)) == ("active", None)
    assert await db.scalar(text("SELECT count(*) FROM email_events WHERE kind = 'bounce'")) == 2


async def test_the_rule_is_checked_field_by_field(db):
    with pytest.raises(ValidationFailed) as failed:
        await rules.update(db, {"soft_bounce_limit": "0", "soft_bounce_days": "many", "soft_bounce_action": "explode"})
    assert set(failed.value.errors) == {"soft_bounce_limit", "soft_bounce_days", "soft_bounce_action"}
    assert await rules.load(db) == rules.BounceRules()
