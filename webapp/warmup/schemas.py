"""A warm-up plan as staff (form or API) send it: what it covers, its first day, its 30 daily
maxima and the rates that hold it back."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.core.schemas import Rule, Schema, Values, flag, matches, one_of, row_id, text, whole_number
from webapp.warmup.models import SCHEDULE_DAYS

MAX_DAILY = 10_000_000
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SCOPE_LABELS = {  # by models.SCOPES
    "smtp_server": "A sending IP (SMTP server)",
    "provider": "An API provider",
    "from_domain": "A From domain",
}
SCOPE_MESSAGE = "Choose what the plan warms up: an SMTP server, an API provider or a From domain."


def _schedule(raw: Any, label: str) -> list[int]:
    """Thirty whole numbers, day 1 first; each day named in the message about it."""
    if not isinstance(raw, (list, tuple)) or len(raw) != SCHEDULE_DAYS:
        raise ValueError(f"Give a maximum for each of the {SCHEDULE_DAYS} days.")
    day_limit = whole_number(0, MAX_DAILY).clean
    return [day_limit(value, f"Day {day}") for day, value in enumerate(raw, start=1)]


SCHEDULE = Rule(
    _schedule,
    converts=True,
    limits={"min_items": SCHEDULE_DAYS, "max_items": SCHEDULE_DAYS, "items": {"minimum": 0, "maximum": MAX_DAILY}},
)


def _day(raw: Any, label: str) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError(f"{label} must be a date such as 2026-12-05.") from None


def percent(lowest: float) -> Rule:
    def clean(raw: Any, label: str) -> float:
        try:
            value = float(str(raw).strip().removesuffix("%"))
        except ValueError:
            raise ValueError(f"{label} must be a number of percent, e.g. 2.5.") from None
        if not lowest <= value <= 100:
            raise ValueError(f"{label} must be between {lowest} and 100 %.")
        return value

    return Rule(clean, converts=True, limits={"minimum": lowest, "maximum": 100})


def _domain(raw: Any, label: str) -> str:
    return str(raw).strip().lower().removeprefix("@")


class PlanInput(Schema, kw_only=True):
    """A warm-up plan, whole. scope says which of smtp_server_id and from_domain it needs."""

    name: Annotated[str, Meta(title="Name"), text(200, blank="Give the plan a name, e.g. “New IP 203.0.113.7”.")]
    scope: Annotated[str, Meta(title="Warms up"), one_of(list(SCOPE_LABELS), SCOPE_MESSAGE)]
    smtp_server_id: Annotated[int | UnsetType | None, Meta(title="SMTP server"), row_id()] = UNSET
    provider_id: Annotated[int | UnsetType | None, Meta(title="API provider"), row_id()] = UNSET
    from_domain: Annotated[
        str | UnsetType,
        Meta(title="From domain"),
        text(255),
        Rule(_domain),
        matches(DOMAIN, "Enter the domain of your From addresses, e.g. news.example.com."),
    ] = UNSET
    starts_on: Annotated[date, Meta(title="First day"), Rule(_day, converts=True)]
    daily_limits: Annotated[list[int], Meta(title="Daily maxima"), SCHEDULE]
    bounce_threshold: Annotated[float, Meta(title="Bounce rate that holds it back"), percent(0.1)]
    complaint_threshold: Annotated[float, Meta(title="Complaint rate that holds it back"), percent(0.01)]
    min_sample: Annotated[int, Meta(title="Messages before the rates count"), whole_number(1, 1_000_000)]
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if values["scope"] == "smtp_server" and not values.get("smtp_server_id"):
            return {"smtp_server_id": "Choose the SMTP server to warm up."}
        if values["scope"] == "provider" and not values.get("provider_id"):
            return {"provider_id": "Choose the API provider to warm up."}
        if values["scope"] == "from_domain" and not values.get("from_domain"):
            return {"from_domain": "Enter the From domain to warm up."}
        return {}


class PlanOut(Struct, frozen=True, kw_only=True):
    """A plan, and where it stands today."""

    id: int
    name: str
    scope: str
    smtp_server_id: int | None
    provider_id: int | None
    from_domain: str | None
    starts_on: date
    daily_limits: list[int]
    bounce_threshold: float
    complaint_threshold: float
    min_sample: int
    is_active: bool
    state: str  # warming up, not started, warmed up, held back, inactive
    day: int | None  # 1 to 30 today; null once warmed up
    limit_today: int | None  # null: no limit
    sent_today: int  # messages let through under the plan today
    held_at: datetime | None
    held_reason: str
    released_at: datetime | None
    released_by: str
    created_at: datetime
