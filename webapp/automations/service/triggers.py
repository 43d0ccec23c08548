"""Triggers: what enrols contacts into automations, always set-based.

signal(session, kind, contact_ids, **params): something happened to these contacts; each active
automation whose trigger matches enrols them (as its re-entry rule allows, mailable contacts only),
in the caller's transaction. The features call it where the thing happens:
- list_joined {list_id}: contacts who became members of a static list (lists, imports, sign-ups)
- subscription_confirmed {list_id}: a double opt-in confirmed, or a single opt-in sign-up
- tag_added / tag_removed {tag}: contacts who gained or lost the tag (one contact, bulk, imports)
- email_opened {campaign_id} / link_clicked {campaign_id, url}: human opens and clicks only
- custom_event {name}, lifecycle_changed {stage}: from the events and scoring features
- score_changed {scores, grades, old_scores, old_grades: {contact_id: ...}}: contacts whose score or
  grade changed, with the new and old values; a trigger enrols those who reach its min_score and
  grade now and did not before.
A trigger without a campaign (or link) matches any. An import's chunks, written on connections of
their own, queue their list_joined and tag_added signals (automation_signals) in their transactions;
the scheduler tick applies them (apply_queued).

evaluate_scheduled(session, now): the triggers nothing signals, run by the scheduler tick at most
every SCHEDULED_EVERY per automation, each looking at what happened since its last evaluation:
- date_field {field, offset_days, yearly}: contacts whose date plus the offset is a UTC day since
  the last evaluation (its first evaluation: today; at most CATCH_UP_DAYS missed days are caught up)
- not_opened {days, campaign_id?}: with a campaign, contacts sent it N days ago who have made no human
  open of it; without, contacts whose last open is N days old (who never opened are not included)
- segment_entered {segment_id}: contacts in the segment now who were not at the last evaluation;
  its rules are people's, so the check stops at MAILROOM_SEGMENT_COUNT_SECONDS and then enrols
  nobody (the automation's page says why) until a check finishes
Not opened and segment entered start from their first evaluation: who was quiet or in the segment
already then does not count as entering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.queries import triggers as queries
from webapp.core.config import get_settings
from webapp.core.errors import NotFound
from webapp.core.queries import TooSlow, time_limit
from webapp.lists.service import audience
from webapp.lists.service import lists as email_lists

SCHEDULED = ("date_field", "not_opened", "segment_entered")
SCHEDULED_EVERY = timedelta(minutes=1)
CATCH_UP_DAYS = 7
QUEUED_BATCH = 100  # queued signals applied per tick

Chooser = Callable[[dict[str, Any], list[int], Mapping[str, Any]], list[int]]


def _same(*names: str) -> Chooser:
    """All the contacts when the trigger's named params equal the signal's (an absent or null one
    in the trigger matches anything)."""

    def choose(trigger: dict[str, Any], ids: list[int], params: Mapping[str, Any]) -> list[int]:
        wanted = [name for name in names if trigger.get(name) is not None]
        return ids if all(trigger[name] == params.get(name) for name in wanted) else []

    return choose


def _scored(trigger: dict[str, Any], ids: list[int], params: Mapping[str, Any]) -> list[int]:
    """The contacts who reach the trigger's score and grade now and did not before."""
    min_score, grade = trigger.get("min_score"), trigger.get("grade")

    def meets(score: int | None, its_grade: str | None) -> bool:
        return (min_score is None or (score is not None and score >= min_score)) and (
            grade is None or its_grade == grade
        )

    now, before = (params["scores"], params["grades"]), (params.get("old_scores", {}), params.get("old_grades", {}))
    return [i for i in ids if meets(now[0].get(i), now[1].get(i)) and not meets(before[0].get(i), before[1].get(i))]


CHOOSERS: dict[str, Chooser] = {
    "list_joined": _same("list_id"),
    "subscription_confirmed": _same("list_id"),
    "tag_added": _same("tag"),
    "tag_removed": _same("tag"),
    "email_opened": _same("campaign_id"),
    "link_clicked": _same("campaign_id", "url"),
    "custom_event": _same("name"),
    "lifecycle_changed": _same("stage"),
    "score_changed": _scored,
}


async def signal(session: AsyncSession, kind: str, contact_ids: Sequence[int], **params: Any) -> int:
    """Enrol these contacts in every active automation whose `kind` trigger matches; how many
    enrolments began."""
    choose = CHOOSERS[kind]  # a kind nothing signals is a programming error
    ids = sorted(set(contact_ids))
    if not ids:
        return 0
    entered = 0
    for automation in await queries.active(session, [kind]):
        if chosen := choose(automation.trigger, ids, params):
            entered += await _enrol(session, automation.id, chosen)
    return entered


async def listening(session: AsyncSession, kinds: Sequence[str]) -> set[str]:
    """Which of these kinds some active automation is triggered by (so a caller skips the work of
    signalling the others)."""
    return {automation.trigger["kind"] for automation in await queries.active(session, kinds)}


async def _enrol(session: AsyncSession, automation_id: int, contact_ids: Sequence[int]) -> int:
    # Imported here: enrolments uses the contacts' service, which signals (an import cycle otherwise).
    from webapp.automations.service import enrolments

    return await enrolments.enrol(session, automation_id, contact_ids)


async def apply_queued(session: AsyncSession, limit: int = QUEUED_BATCH) -> int:
    """Signal what work on its own connection queued (an import's chunks); how many enrolments began."""
    entered = 0
    for queued in await queries.take_queued(session, limit):
        entered += await signal(session, queued.kind, queued.contact_ids, **queued.params)
    return entered


async def evaluate_scheduled(session: AsyncSession, now: datetime) -> int:
    """Evaluate the scheduled triggers that are due; how many enrolments began."""
    return sum([await evaluate(session, automation, now) for automation in await due(session, now)])


async def due(session: AsyncSession, now: datetime) -> list[queries.Triggered]:
    """The active automations whose scheduled trigger is due for evaluation."""
    found = await queries.active(session, SCHEDULED)
    return [a for a in found if a.checked_at is None or now - a.checked_at >= SCHEDULED_EVERY]


async def evaluate(session: AsyncSession, automation: queries.Triggered, now: datetime) -> int:
    """Evaluate one scheduled trigger; how many enrolments began. A segment too slow to check within
    the time limit enrols nobody this time, and the automation's page says so."""
    problem = ""
    try:
        contact_ids = await _scheduled(session, automation, now)
    except TooSlow as exc:
        contact_ids, problem = [], too_slow_to_check(exc.seconds)
    await queries.checked(session, automation.id, now, problem)
    return await _enrol(session, automation.id, contact_ids) if contact_ids else 0


def too_slow_to_check(seconds: float) -> str:
    return (
        f"Checking who entered the segment took longer than {seconds:g} s, the time limit, so nobody was enrolled. "
        "It is checked again every minute; those who enter meanwhile are enrolled by the first check that "
        "finishes. A segment with fewer or narrower conditions is checked faster."
    )


async def last_problem(session: AsyncSession, automation_id: int) -> tuple[datetime, str] | None:
    """When the last evaluation of the automation's trigger enrolled nobody for a reason, and why."""
    check = await queries.last_check(session, automation_id)
    return (check.checked_at, check.problem) if check is not None and check.problem else None


async def _scheduled(session: AsyncSession, automation: queries.Triggered, now: datetime) -> list[int]:
    trigger, since = automation.trigger, automation.checked_at
    kind = trigger["kind"]
    if kind == "date_field":
        found: set[int] = set()
        for day in _days(since, now):
            offset, yearly = trigger.get("offset_days") or 0, bool(trigger.get("yearly"))
            found.update(await queries.on_day(session, trigger["field"], offset, yearly, day))
        return sorted(found)
    if kind == "not_opened":
        if since is None:
            return []
        return await queries.not_opened(session, trigger["days"], trigger.get("campaign_id"), since, now)
    try:
        segment = await email_lists.get_list(session, trigger["segment_id"])
    except NotFound:  # deleted since the automation was published: nobody enters it
        return []
    async with time_limit(session, get_settings().segments.count_seconds):  # its rules are people's
        entries = await queries.segment_entries(session, automation.id, audience.list_condition(segment, now))
    return [] if since is None else entries


def _days(since: datetime | None, now: datetime) -> list[date]:
    """The UTC days not evaluated yet: today at the first evaluation, else those after the last."""
    today = now.astimezone(UTC).date()
    if since is None:
        return [today]
    first = max(since.astimezone(UTC).date() + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]
