"""Lead scores against the real database: rules over the events (caps per day, negative points,
machine opens ignored: an empty agent is Apple's privacy proxy), completeness, recency decay, grades,
lifecycle stages that only move forward and manual stages that stick, points given set-based, the
nightly recompute, the history, and the changes reported for the automation triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.support.conversions import sent_to
from tests.support.scoring import contact, email_event, history, rule, score_row
from tests.support.subscriptions import public_list
from webapp.contact_events import service as contact_events
from webapp.contact_events.service import NewEvent
from webapp.scoring import service as scoring
from webapp.scoring.schemas import ScoreChanged
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.subscriptions.service.tokens import ConfirmLink
from webapp.tracking.service import hits

NOW = datetime.now(UTC)


async def test_custom_events_score_at_once_with_a_daily_cap_and_a_history_line(db):
    ada = await contact(db, "ada@example.com")
    await rule(db, "custom", 10, event_name="purchase", daily_limit=2)
    await rule(db, "custom", -5, event_name="refund")
    changes = await contact_events.record(db, [NewEvent(ada, "purchase") for _ in range(3)])
    assert len(changes) == 3
    # 2 purchases counted today (the cap) + full recency for activity just now
    assert (await score_row(db, ada))["engagement"] == 20
    assert (await score_row(db, ada))["score"] == 40
    yesterday = NOW - timedelta(days=1)
    await contact_events.record(db, [NewEvent(ada, "purchase", occurred_at=yesterday), NewEvent(ada, "refund")])
    row = await score_row(db, ada)
    assert (row["engagement"], row["score"], row["grade"]) == (25, 45, "C")
    assert await history(db, ada) == [(40, 40, "Event: purchase"), (45, 5, "Event: purchase, refund")]


async def test_an_event_dated_ahead_of_now_scores_as_if_it_happened_now(db):
    """A sender's clock may run ahead: such activity gets full recency, not an overflow of the decay."""
    ada = await contact(db, "ada@example.com")
    await rule(db, "custom", 10, event_name="purchase")
    await contact_events.record(db, [NewEvent(ada, "purchase", occurred_at=NOW + timedelta(days=200 * 365))])
    assert (await score_row(db, ada))["score"] == 30  # 10 points + full recency (20)


async def test_human_opens_and_clicks_from_the_event_worker_score_and_machine_opens_do_not(db):
    sent = await sent_to(db, "ada@example.com")
    await db.execute(text("UPDATE deliveries SET sent_at = now() - interval '1 hour'"))
    await rule(db, "open", 3)
    await rule(db, "click", 7, link_url="https://example.com/offer")
    await rule(db, "click", 100, link_url="https://example.com/elsewhere")
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
    await hits.apply(db, [hits.new_hit("open", sent.delivery_id, None, "")])
    assert await score_row(db, sent.contact_id) is None
    await hits.apply(db, [hits.new_hit("open", sent.delivery_id, None, browser)])
    await hits.apply(db, [hits.new_hit("click", sent.delivery_id, sent.link_id, browser)])
    row = await score_row(db, sent.contact_id)
    assert (row["engagement"], row["recency"]) == (10, 20)
    assert [reason for _, _, reason in await history(db, sent.contact_id)] == ["Opened or clicked an email"] * 2


async def test_completeness_and_recency_decay_are_recomputed_every_night(db):
    full = await contact(
        db,
        "full@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="+44 20",
        company="Engines",
        job_title="Analyst",
        location="London",
    )
    await db.execute(text('UPDATE contacts SET custom_fields = \'{"plan": "pro"}\' WHERE id = :c'), {"c": full})
    month_ago, long_ago = await contact(db, "month@example.com"), await contact(db, "long@example.com")
    await email_event(db, month_ago, "open", NOW - timedelta(days=30))
    await email_event(db, long_ago, "open", NOW - timedelta(days=91))
    await email_event(db, long_ago, "open", NOW - timedelta(days=2), machine=True)
    changes = await scoring.recompute_all(db)
    assert (await score_row(db, full))["completeness"] == 20
    assert (await score_row(db, month_ago))["recency"] == 10  # half of 20 after 30 days
    assert (await score_row(db, long_ago))["recency"] == 0
    assert {change.contact_id for change in changes} == {full, month_ago}
    assert await scoring.recompute_all(db) == []  # nothing changed since: no change, no history


async def test_points_given_set_based_are_kept_through_the_nightly_recompute(db):
    ada, bob, cy = [await contact(db, f"{name}@example.com") for name in ("ada", "bob", "cy")]
    changes = await scoring.add_points(db, [ada, bob, 999_999], 30, "Automation: welcome")
    assert changes == [
        ScoreChanged(ada, 0, 30, "F", "D", "subscriber", "lead"),
        ScoreChanged(bob, 0, 30, "F", "D", "subscriber", "lead"),
    ]
    await scoring.add_points(db, [bob], -10, "Unqualified")
    await scoring.recompute_all(db)
    assert [(await score_row(db, c))["score"] for c in (ada, bob, cy)] == [30, 20, 0]
    assert await history(db, bob) == [(30, 30, "Automation: welcome"), (20, -10, "Unqualified")]


async def test_grades_follow_the_bands(db):
    bands = [(95, "A+"), (90, "A+"), (85, "A"), (75, "B+"), (65, "B"), (50, "C"), (30, "D"), (24, "F"), (-5, "F")]
    for points, grade in bands:
        someone = await contact(db, f"p{points}@example.com")
        (change,) = await scoring.add_points(db, [someone], points, "test") or [None]
        assert (await score_row(db, someone))["grade"] == grade, points
        assert change is None or change.grade == grade


async def test_stages_follow_the_thresholds_only_forward_and_a_manual_stage_sticks_until_cleared(db):
    ada = await contact(db, "ada@example.com")
    await scoring.save_thresholds(db, {"lead": "10", "mql": "20", "sql": "30", "customer": "40", "evangelist": "50"})
    (change,) = await scoring.add_points(db, [ada], 35, "Demo booked")
    assert (change.old_stage, change.stage) == ("subscriber", "sql")
    await scoring.add_points(db, [ada], -30, "Cooled down")
    assert (await score_row(db, ada))["stage"] == "sql"  # a stage reached is kept when the score falls
    (manual,) = await scoring.set_stage(db, ada, {"stage": "customer"}, "admin@example.com")
    assert (manual.old_stage, manual.stage) == ("sql", "customer")
    await scoring.add_points(db, [ada], 100, "Big deal")
    await scoring.recompute_all(db)
    assert (await score_row(db, ada))["stage"] == "customer"  # the override sticks
    (cleared,) = await scoring.set_stage(db, ada, {"stage": ""}, "admin@example.com")
    assert cleared.stage == "evangelist"
    assert (await history(db, ada))[-1][2] == "Manual stage cleared by admin@example.com"


async def test_a_sign_up_form_and_its_confirmation_score_at_once(db):
    newsletter = await public_list(db, "Newsletter")
    await rule(db, "form", 5)
    await rule(db, "confirmed", 15)
    signed_up = await subscriptions.subscribe(
        db, await subscriptions.public_list(db, newsletter.id), {"email": "new@example.com"}, Origin("page"), "en"
    )
    new = await db.scalar(text("SELECT id FROM contacts WHERE email = 'new@example.com'"))
    assert (await score_row(db, new))["engagement"] == 5
    link = ConfirmLink(signed_up.pending_id, newsletter.id, expired=False)
    await subscriptions.confirm(db, link)
    assert (await score_row(db, new))["engagement"] == 20
    assert [reason for *_, reason in await history(db, new)] == ["Sent a sign-up form", "Confirmed a subscription"]
