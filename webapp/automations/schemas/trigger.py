"""What enrols contacts into an automation: `{"kind": ..., params}`. The triggers themselves (the
signals from lists, tags, tracking, events and the scheduled checks) are the mail part's
(service/triggers.py); this is their shape and its rules."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from webapp.automations.schemas.flow import date_field
from webapp.contact_events.schemas import EVENT_NAME
from webapp.core.errors import ValidationFailed
from webapp.core.schemas import HTTP_LINK, Rule, Schema, Values, flag, load, one_of, row_id, text, whole_number
from webapp.core.validation import normalize_tags

GRADES = ("A+", "A", "B+", "B", "C", "D", "F")
STAGES = ("subscriber", "lead", "mql", "sql", "customer", "evangelist")
MAX_URL = 2000


def _tag(value: Any, label: str) -> str:
    tags = normalize_tags([value]) if isinstance(value, str) else []
    if len(tags) != 1:
        raise ValueError("Enter the tag.")
    return tags[0]


def _event_name(value: Any, label: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100 or "\x00" in value:
        raise ValueError("Enter the event's name, e.g. purchase (at most 100 characters).")
    if not EVENT_NAME.fullmatch(value.strip()):  # as /api/events takes it: no other name ever comes
        raise ValueError("Enter the event's name as programs send it: letters, digits and _ . : - (e.g. purchase).")
    return value.strip()


ListId = Annotated[int, Meta(title="List"), row_id("Choose the list by its id.")]
OptionalCampaign = Annotated[int | UnsetType | None, Meta(title="Campaign"), row_id()]


class TriggerIn(Schema, kw_only=True):
    kind: Annotated[str, Meta(title="Trigger")]


class ListTrigger(TriggerIn, kw_only=True):
    list_id: ListId


class TagTrigger(TriggerIn, kw_only=True):
    tag: Annotated[str, Meta(title="Tag"), Rule(_tag, missing="Enter the tag.", converts=True)]


class DateFieldTrigger(TriggerIn, kw_only=True):
    field: Annotated[str, Meta(title="Date field"), Rule(date_field, converts=True)]
    offset_days: Annotated[
        int | UnsetType,
        Meta(title="Offset in days", description="Negative: days before the date."),
        whole_number(-3650, 3650),
    ] = UNSET
    yearly: Annotated[bool | UnsetType, Meta(title="Every year"), flag()] = UNSET


class OpenedTrigger(TriggerIn, kw_only=True):
    campaign_id: OptionalCampaign = UNSET


class ClickedTrigger(TriggerIn, kw_only=True):
    campaign_id: OptionalCampaign = UNSET
    url: Annotated[str | UnsetType | None, Meta(title="Link"), text(MAX_URL), HTTP_LINK] = UNSET


class NotOpenedTrigger(TriggerIn, kw_only=True):
    days: Annotated[int, Meta(title="Days"), whole_number(1, 365)]
    campaign_id: OptionalCampaign = UNSET


class SegmentTrigger(TriggerIn, kw_only=True):
    segment_id: Annotated[int, Meta(title="Segment"), row_id("Choose the segment by its id.")]


class ScoreTrigger(TriggerIn, kw_only=True):
    min_score: Annotated[int | UnsetType | None, Meta(title="Score at least"), whole_number(-100_000, 100_000)] = UNSET
    grade: Annotated[str | UnsetType | None, Meta(title="Grade"), one_of(GRADES, "Choose a grade: A+ to F.")] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if values.get("min_score") is None and values.get("grade") is None:
            return {"min_score": "Give a score to reach, a grade, or both."}
        return {}


class LifecycleTrigger(TriggerIn, kw_only=True):
    stage: Annotated[str, Meta(title="Stage"), one_of(STAGES, "Choose a stage: " + ", ".join(STAGES) + ".")]


class CustomEventTrigger(TriggerIn, kw_only=True):
    name: Annotated[str, Meta(title="Event"), Rule(_event_name, missing="Enter the event's name.", converts=True)]


TRIGGERS: dict[str, type[TriggerIn]] = {
    "list_joined": ListTrigger,
    "subscription_confirmed": ListTrigger,
    "tag_added": TagTrigger,
    "tag_removed": TagTrigger,
    "date_field": DateFieldTrigger,
    "email_opened": OpenedTrigger,
    "link_clicked": ClickedTrigger,
    "not_opened": NotOpenedTrigger,
    "segment_entered": SegmentTrigger,
    "score_changed": ScoreTrigger,
    "lifecycle_changed": LifecycleTrigger,
    "custom_event": CustomEventTrigger,
    "manual": TriggerIn,
}
KIND_MESSAGE = "Choose the trigger: " + ", ".join(TRIGGERS) + "."
NO_KIND_MESSAGE = "Choose what starts the automation."  # left blank: the form's menu names them in words


def load_trigger(raw: Any, path: str = "trigger") -> Values:
    """The trigger as stored, or ValidationFailed naming each problem (`trigger.list_id`)."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in TRIGGERS:
        message = NO_KIND_MESSAGE if kind == "" else KIND_MESSAGE
        raise ValidationFailed({f"{path}.kind" if isinstance(raw, dict) else path: message})
    try:
        return load(TRIGGERS[kind], raw)
    except ValidationFailed as exc:
        raise ValidationFailed({f"{path}.{name}": message for name, message in exc.errors.items()}) from None
