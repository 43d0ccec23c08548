"""Scoring inputs (a rule, the lifecycle thresholds, a manual stage, points given by hand), each used
by the form and the API alike, and the API's output shapes."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.contact_events.schemas import EVENT_NAME_RULE
from webapp.core.schemas import HTTP_LINK, Rule, Schema, Values, flag, one_of, text, whole_number
from webapp.scoring.models import RULE_EVENTS, STAGES

EVENT_LABELS = {
    "open": "Opened an email",
    "click": "Clicked a link",
    "form": "Sent a sign-up form",
    "confirmed": "Confirmed a subscription",
    "custom": "Custom event",
}
STAGE_LABELS = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "mql": "MQL",
    "sql": "SQL",
    "customer": "Customer",
    "evangelist": "Evangelist",
}
# The score at which each stage after "subscriber" begins, unless the organisation set its own.
DEFAULT_THRESHOLDS = {"lead": 25, "mql": 45, "sql": 60, "customer": 80, "evangelist": 90}
MAX_POINTS = 1000
EVENT_MESSAGE = "Event must be one of: " + ", ".join(RULE_EVENTS) + "."
STAGE_MESSAGE = "Stage must be one of: " + ", ".join(STAGES) + "."


def _points(value: object, label: str) -> int:
    points: int = whole_number(-MAX_POINTS, MAX_POINTS).clean(value, label)
    if points == 0:
        raise ValueError(f"{label} must not be 0: give points, or take some away with a minus sign.")
    return points


POINTS_LIMITS = {"minimum": -MAX_POINTS, "maximum": MAX_POINTS, "schema_not": {"const": 0}}
POINTS = Rule(_points, converts=True, limits=POINTS_LIMITS)
REQUIRED_POINTS = Rule(_points, missing="Enter the points.", converts=True, limits=POINTS_LIMITS)


def _optional(*rules: Rule) -> Rule:
    """The rules in turn, or None for a blank form field or null."""

    def clean(value: object, label: str) -> object:
        if value in (None, ""):
            return None
        for rule in rules:
            value = rule.clean(value, label)
        return value

    return Rule(clean, converts=True, limits={name: limit for rule in rules for name, limit in rule.limits.items()})


# What a rule's event can be: a custom event's name as the events API takes it, a link as tracked.
EventName = Annotated[str | UnsetType | None, Meta(title="Event name"), _optional(text(100), EVENT_NAME_RULE)]
LinkUrl = Annotated[str | UnsetType | None, Meta(title="Link"), _optional(text(2000), HTTP_LINK)]


class RuleIn(Schema, kw_only=True):
    name: Annotated[str, Meta(title="Name"), text(200, blank="Enter a name for the rule.")]
    event: Annotated[str, Meta(title="Event"), one_of(RULE_EVENTS, EVENT_MESSAGE)]
    event_name: EventName = UNSET
    link_url: LinkUrl = UNSET
    points: Annotated[int, Meta(title="Points"), REQUIRED_POINTS]
    daily_limit: Annotated[
        int | UnsetType | None, Meta(title="Times per day at most"), _optional(whole_number(1, 1000))
    ] = UNSET
    enabled: Annotated[bool | UnsetType, Meta(title="Enabled"), flag()] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        event = values.get("event")
        errors = {}
        if event == "custom" and not values.get("event_name"):
            errors["event_name"] = "Enter the custom event's name, such as purchase."
        if event not in (None, "custom") and values.get("event_name"):
            errors["event_name"] = "Only a custom event rule has an event name."
        if event not in (None, "click") and values.get("link_url"):
            errors["link_url"] = "Only a click rule has a link."
        return errors


class RuleUpdate(Schema, kw_only=True):
    """A partial update of a rule (the API's PATCH): only the fields sent change; null clears an
    optional one. The rule as it would be is checked whole, as RuleIn."""

    name: Annotated[str | UnsetType, Meta(title="Name"), text(200, blank="Enter a name for the rule.")] = UNSET
    event: Annotated[str | UnsetType, Meta(title="Event"), one_of(RULE_EVENTS, EVENT_MESSAGE)] = UNSET
    event_name: EventName = UNSET
    link_url: LinkUrl = UNSET
    points: Annotated[int | UnsetType, Meta(title="Points"), POINTS] = UNSET
    daily_limit: Annotated[
        int | UnsetType | None, Meta(title="Times per day at most"), _optional(whole_number(1, 1000))
    ] = UNSET
    enabled: Annotated[bool | UnsetType, Meta(title="Enabled"), flag()] = UNSET


class ThresholdsIn(Schema, kw_only=True):
    lead: Annotated[int, Meta(title="Lead from"), whole_number(-100_000, 100_000)]
    mql: Annotated[int, Meta(title="MQL from"), whole_number(-100_000, 100_000)]
    sql: Annotated[int, Meta(title="SQL from"), whole_number(-100_000, 100_000)]
    customer: Annotated[int, Meta(title="Customer from"), whole_number(-100_000, 100_000)]
    evangelist: Annotated[int, Meta(title="Evangelist from"), whole_number(-100_000, 100_000)]

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        stages = STAGES[1:]
        for before, stage in pairwise(stages):
            if values[stage] <= values[before]:
                return {stage: f"{STAGE_LABELS[stage]} must start above {STAGE_LABELS[before]} ({values[before]})."}
        return {}


class StageIn(Schema, kw_only=True):
    """A manual stage (it sticks until cleared); null or blank clears it."""

    stage: Annotated[str | None, Meta(title="Stage"), _optional(one_of(STAGES, STAGE_MESSAGE))]


class PointsIn(Schema, kw_only=True):
    points: Annotated[int, Meta(title="Points"), REQUIRED_POINTS]
    reason: Annotated[str, Meta(title="Reason"), text(200, blank="Enter why these points are given.")]


class ScoreChanged(Struct, frozen=True):
    """A contact whose score, grade or stage changed: what it was and what it is now."""

    contact_id: int
    old_score: int
    score: int
    old_grade: str
    grade: str
    old_stage: str
    stage: str


class RuleOut(Struct, frozen=True, kw_only=True):
    id: int
    name: str
    event: str
    event_name: str | None
    link_url: str | None
    points: int
    daily_limit: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class ScoreOut(Struct, frozen=True, kw_only=True):
    contact_id: int
    score: int
    grade: str
    lifecycle_stage: str
    stage_override: str | None
    engagement: int
    adjustments: int
    completeness: int
    recency: int
    last_activity_at: datetime | None
    updated_at: datetime | None


class HistoryOut(Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    score: int
    change: int
    grade: str
    lifecycle_stage: str
    reason: str


class HistoryPageOut(Struct, frozen=True, kw_only=True):
    items: list[HistoryOut]
    next_cursor: str | None


class LeaderOut(Struct, frozen=True, kw_only=True):
    contact_id: int
    email: str
    name: str
    score: int
    grade: str
    lifecycle_stage: str


class StageCount(Struct, frozen=True, kw_only=True):
    stage: str
    contacts: int


class LeaderboardPageOut(Struct, frozen=True, kw_only=True):
    items: list[LeaderOut]
    next_cursor: str | None


class LifecycleOut(Struct, frozen=True, kw_only=True):
    stages: list[StageCount]
    total: int


class RecalculationOut(Struct, frozen=True, kw_only=True):
    queued: bool
