"""A plan's days: the default schedule, which day of it today is, and today's maximum. Days are
UTC days; a plan's day 1 is its first day, and after day 30 it is done (no limit)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import whole_number
from webapp.warmup.models import SCHEDULE_DAYS, WarmupPlan
from webapp.warmup.schemas import MAX_DAILY

FIRST_DAY = 50  # messages on day 1: what a new IP or domain can send without looking like a spammer
DEFAULT_TARGET = 50_000  # messages a day by day 30, unless staff say otherwise


def _nice(number: float) -> int:
    """Rounded to two significant digits (1,234 -> 1,200), so the schedule reads easily."""
    whole = round(number)
    magnitude = 10 ** max(0, len(str(whole)) - 2)
    return int(round(whole / magnitude) * magnitude)


def default_schedule(target: int = DEFAULT_TARGET, first: int = FIRST_DAY) -> list[int]:
    """From `first` to `target` in 30 days, the same share more each day (about +27 % a day to
    50,000), never more than double the day before; days past the target stay at it."""
    first = min(first, target)
    growth = min(2.0, (target / first) ** (1 / (SCHEDULE_DAYS - 1))) if first else 1.0
    days = [min(target, _nice(first * growth**day)) for day in range(SCHEDULE_DAYS)]
    days[-1] = target
    return days


def today() -> date:
    return datetime.now(UTC).date()


def day_number(plan: WarmupPlan, on: date) -> int | None:
    """Which day of the plan `on` is (1 to 30; before the first day, 1: its maximum applies from
    the start), or None once the 30 days are over."""
    number = max(1, (on - plan.starts_on).days + 1)
    return number if number <= SCHEDULE_DAYS else None


def limit_on(plan: WarmupPlan, on: date) -> int | None:
    """The plan's maximum for that day; None: no limit (inactive, or warmed up)."""
    number = day_number(plan, on)
    return plan.daily_limits[number - 1] if plan.is_active and number is not None else None


def next_day_start(on: date) -> datetime:
    return datetime.combine(on + timedelta(days=1), time(), tzinfo=UTC)


def seconds_until_next_day(now: datetime) -> float:
    return (next_day_start(now.date()) - now).total_seconds()


def schedule_for(raw_target: str) -> list[int]:
    """The default schedule to a daily target staff typed (the form's "Fill in" button)."""
    try:
        target = whole_number(1, MAX_DAILY).clean(raw_target, "The target")
    except ValueError as exc:
        raise ValidationFailed({"target": str(exc)}) from None
    return default_schedule(target)
