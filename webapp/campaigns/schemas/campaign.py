"""A campaign as staff and programs write it (one schema for the wizard's forms and the JSON API),
its schedule, and the messages that say what a campaign still lacks.

The API declares these as request bodies (Litestar checks JSON types, 400); the campaign service
loads what was sent through them (422 naming each field); the wizard converts its forms to them.
Checks that need the database (lists and templates that exist, a time still in the future) stay
in the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from msgspec import UNSET, Meta, UnsetType

from webapp.core.schemas import Rule, Schema, Values, optional_email_address, text
from webapp.core.validation import MAX_ID, time_zones
from webapp.templates.schemas import CONTENT, JINJA_SYNTAX, ContentFormat, MarkdownContent

NAME_LENGTH = 200
MAX_SCHEDULE_LENGTH = 100  # an ISO time or a zone name is far shorter

# What a campaign still lacks: the wizard's steps and the readiness check say it the same way.
NAME_MISSING = "Give the campaign a name."
SUBJECT_MISSING = "Write a subject line."
FROM_MISSING = "Enter the address the campaign is sent from."
CONTENT_MISSING = "Pick a template or write the content."
LISTS_MISSING = "Choose at least one list to send to."
AUDIENCE_EMPTY = (
    "Nobody on the chosen lists can receive it: everyone there is unsubscribed, bounced, complained, "
    "unconfirmed, inactive or suppressed. Choose other lists."
)
ORGANISATION_NAME_MISSING = (
    "The organisation's name is not set; every message says who sent it. An admin sets it under "
    "Settings → Organisation."
)
POSTAL_ADDRESS_MISSING = (
    "The organisation's postal address is not set; marketing mail must show one (CAN-SPAM, GDPR). "
    "An admin sets it under Settings → Organisation."
)
TEMPLATE_MISSING = "Choose a template first."
TIME_FORMAT = "Enter a date and time like 2026-12-01T09:30."
TIME_IN_PAST = "Choose a time in the future, or send now."


def unknown_lists(list_ids: Sequence[int]) -> str:
    return "Unknown list ids: " + ", ".join(map(str, list_ids)) + "."


Id = Annotated[int, Meta(ge=1, le=MAX_ID)]


def _template_id(value: Any, label: str) -> int | None:
    """A template id as sent, or None for none; whether that template exists is the service's check."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError("Choose a template from the list.") from None


def _list_ids(value: Any, label: str) -> list[int]:
    """List ids, each once, in order; which of them exist is the service's check."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    try:
        return sorted({int(item) for item in items if str(item).strip()})
    except (TypeError, ValueError):
        raise ValueError("List ids must be numbers.") from None


# Template source, checked as the template library checks its own.
Subject = Annotated[str | UnsetType | None, Meta(title="Subject"), text(500), JINJA_SYNTAX]
HtmlContent = Annotated[str | UnsetType | None, Meta(title="HTML"), CONTENT, JINJA_SYNTAX]
TextContent = Annotated[str | UnsetType | None, Meta(title="Text"), CONTENT, JINJA_SYNTAX]
TemplateId = Annotated[
    Id | UnsetType | None,
    Meta(title="Template"),
    Rule(_template_id, converts=True, limits={"minimum": 1, "maximum": MAX_ID}),
]
ListIds = Annotated[
    list[Id] | UnsetType,
    Meta(title="Lists"),
    Rule(_list_ids, converts=True, limits={"items": {"minimum": 1, "maximum": MAX_ID}}),
]


class CampaignSettings(Schema, kw_only=True):
    """Settings not sent keep their value (their default, for a new campaign: all true but the web
    version link and the archive)."""

    unknown_field_message = "Unknown setting."

    track_opens: Annotated[bool | UnsetType, Meta(title="Track opens")] = UNSET
    track_clicks: Annotated[bool | UnsetType, Meta(title="Track clicks")] = UNSET
    unsubscribe_link: Annotated[bool | UnsetType, Meta(title="Unsubscribe link")] = UNSET
    suppress_duplicates: Annotated[bool | UnsetType, Meta(title="Suppress duplicates")] = UNSET
    web_version_link: Annotated[bool | UnsetType, Meta(title="Web version link")] = UNSET
    archive: Annotated[bool | UnsetType, Meta(title="Public archive")] = UNSET


class CampaignUpdate(Schema, kw_only=True):
    """A partial update of a draft or scheduled campaign: only the fields sent change. Choosing a
    different `template_id` copies that template's content unless content is sent too;
    `list_ids` replaces the audience. With `content_format` "markdown", `html_content` is made
    from `markdown_content` and is not sent. Unknown fields are rejected (422)."""

    name: Annotated[str | UnsetType, Meta(title="Name"), text(NAME_LENGTH, blank=NAME_MISSING)] = UNSET
    subject: Subject = UNSET
    from_email: Annotated[str | UnsetType | None, Meta(title="From address"), optional_email_address()] = UNSET
    from_name: Annotated[str | UnsetType | None, Meta(title="From name"), text(200)] = UNSET
    reply_to: Annotated[str | UnsetType | None, Meta(title="Reply-to address"), optional_email_address()] = UNSET
    template_id: TemplateId = UNSET
    list_ids: ListIds = UNSET
    content_format: ContentFormat = UNSET
    markdown_content: MarkdownContent = UNSET
    html_content: HtmlContent = UNSET
    text_content: TextContent = UNSET
    settings: CampaignSettings | UnsetType = UNSET


class CampaignCreate(CampaignUpdate, kw_only=True):
    """A new draft: only `name` is required. With `template_id` and no content, the
    template's content (and subject, when none is given) is copied into the campaign."""

    name: Annotated[str, Meta(title="Name"), text(NAME_LENGTH, blank=NAME_MISSING)]


# ---- when it goes out ----------------------------------------------------------------------------


def _local_time(value: str, label: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(TIME_FORMAT) from None


def _zone(value: str, label: str) -> str:
    """One of the IANA zones the wizard offers (as automations' schedules take them): ZoneInfo alone
    also opens files such as "localtime" (the server's own zone) and "Factory"."""
    name = value or "UTC"
    if name not in time_zones():
        raise ValueError(f"Unknown time zone '{name}': choose one such as Europe/Paris or UTC.")
    return name


def utc_time(local: datetime, zone: str) -> datetime:
    """A time without an offset is read in `zone` (a time that happens twice, as clocks go back, is the
    first of the two); ValueError for a time UTC cannot hold, or one the zone skips when its clocks go
    forward (it would silently become an hour later)."""
    typed = local
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    try:
        when = local.astimezone(UTC)
    except OverflowError:  # within hours of the first or the last time UTC can hold
        raise ValueError(
            "Choose a time in the future."
            if local.year == 1
            else "Choose a time before the end of the year 9999 (UTC)."
        ) from None
    if typed.tzinfo is None and when.astimezone(ZoneInfo(zone)).replace(tzinfo=None) != typed:
        raise ValueError(
            f"{typed:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks go forward then. Choose another time."
        )
    return when


class ScheduleIn(Schema, kw_only=True):
    scheduled_time: Annotated[
        str,
        Meta(
            max_length=MAX_SCHEDULE_LENGTH,
            description="ISO 8601 date-time. Without an offset it is a local time in `timezone`.",
        ),
        Rule(_local_time, missing=TIME_FORMAT, limits={"format": "date-time"}),
    ]
    timezone: Annotated[
        str,
        Meta(max_length=MAX_SCHEDULE_LENGTH, description="IANA zone, e.g. Europe/Madrid. Default UTC."),
        Rule(_zone),
    ] = "UTC"

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        try:
            utc_time(values["scheduled_time"], values.get("timezone", "UTC"))
        except ValueError as exc:
            return {"scheduled_time": str(exc)}
        return {}


class ArchiveIn(Schema, kw_only=True):
    archive: Annotated[
        bool, Meta(description="true: shown in the public archive (/archive) once sent; false: taken out of it.")
    ]
