"""The segment compiler: a parsed rule tree (schemas/rules) becomes one SQLAlchemy predicate over
the contacts table. Field names pick columns from a fixed table in this module and every value is a
bound parameter, so nothing a user typed is ever SQL text.

Semantics, which the property tests check against a plain-Python evaluation of the same rules:
- text fields compare case-insensitively; "is set" means not empty;
- custom fields compare as text, except ordering against a number, which compares only values
  that are numbers (or digits in text) — others never match; a missing key is empty;
- a date given as a day covers that whole day (UTC); "-90d" is 90 days before `now`;
- "not in the last N days" includes never; an empty AND group matches everyone, an empty OR nobody;
- a contact never scored has score 0, grade F and stage subscriber; one never sent anything, 0 sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, cast, exists, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Numeric, Text

from webapp.campaigns.models import Delivery, DeliveryStatus
from webapp.contacts.models import Contact, ContactSends, ContactStatus
from webapp.lists.models import EmailList, ListMember, ListType
from webapp.lists.schemas.rules import (
    CUSTOM_PREFIX,
    EMPTY_RULES,
    ORDERING_OPS,
    Condition,
    DateValue,
    Group,
    parse_rules,
)
from webapp.scoring.models import ContactScore
from webapp.suppression.models import Suppression

NUMERIC_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
DAY = timedelta(days=1)

COLUMNS: dict[str, ColumnElement[Any]] = {
    name: getattr(Contact, name)
    for name in (
        "email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "job_title",
        "location",
        "language",
        "frequency",
        "status",
        "tags",
        "topics",
        "emails_opened",
        "emails_clicked",
        "date_added",
        "last_updated",
        "last_opened",
        "last_clicked",
    )
}


def compile_rules(group: Group, now: datetime) -> ColumnElement[bool]:
    parts = [
        compile_rules(item, now) if isinstance(item, Group) else _condition(item, now) for item in group.conditions
    ]
    if group.operator == "AND":
        return and_(true(), *parts)
    return or_(false(), *parts)


def list_condition(email_list: EmailList, now: datetime) -> ColumnElement[bool]:
    """True for the contacts that belong to this list, whatever its type."""
    if email_list.list_type == ListType.STATIC.value:
        return _member_of([email_list.id])
    rules = compile_rules(parse_rules(email_list.rules or EMPTY_RULES), now)
    if email_list.list_type == ListType.SEGMENTED.value and email_list.parent_list_id is not None:
        return and_(_member_of([email_list.parent_list_id]), rules)
    return rules


def audience_condition(lists: Iterable[EmailList], now: datetime) -> ColumnElement[bool]:
    """The contacts a campaign to these lists reaches: members of any of them who may receive
    marketing mail and whose address is not on the suppression list."""
    lists = list(lists)
    static_ids = [x.id for x in lists if x.list_type == ListType.STATIC.value]
    members = [_member_of(static_ids)] if static_ids else []
    members += [list_condition(x, now) for x in lists if x.list_type != ListType.STATIC.value]
    return and_(
        Contact.is_active,
        Contact.status == ContactStatus.ACTIVE.value,
        or_(false(), *members),
        ~exists().where(Suppression.email_hash == Contact.email_hash),
    )


def _member_of(list_ids: list[int]) -> ColumnElement[bool]:
    return exists().where(ListMember.contact_id == Contact.id, ListMember.list_id.in_(list_ids))


def _condition(c: Condition, now: datetime) -> ColumnElement[bool]:
    kind = c.spec.kind
    if kind == "custom":
        return _custom(c)
    if kind == "text":
        return _text_match(COLUMNS[c.field], c.op, c.value)
    if kind == "list":
        member = _member_of(list(c.value))
        return member if c.op == "in" else ~member
    if kind == "engagement":
        return _engagement(c, now)
    if c.field in ROW_COLUMNS:
        return _in_own_table(c)
    column = COLUMNS[c.field]
    if kind == "number":
        return _ordered(column, c.op, c.value)
    if kind == "choice":
        if c.op in ("in", "not_in"):
            return column.in_(c.value) if c.op == "in" else column.not_in(c.value)
        return _ordered(column, c.op, c.value)
    if kind == "array":
        values = cast(list(c.value), ARRAY(Text))
        if c.op == "has_all":
            return column.contains(values)
        overlaps: ColumnElement[bool] = column.overlap(values)  # PostgreSQL's && on arrays
        return overlaps if c.op == "has_any" else ~overlaps
    if kind == "date":
        return _date(column, c.op, c.value, now)
    raise AssertionError(kind)


def _text_match(column: ColumnElement[Any], op: str, value: str | None) -> ColumnElement[bool]:
    if op == "is_set":
        return column != ""
    if op == "is_not_set":
        return column == ""
    lowered = func.lower(column)
    wanted = func.lower(literal(value, Text))
    if op == "eq":
        return lowered == wanted
    if op == "neq":
        return lowered != wanted
    pattern = func.lower(literal(_like_escape(value or ""), Text))
    if op == "starts_with":
        return lowered.like(pattern + "%", escape="\\")
    found = lowered.like("%" + pattern + "%", escape="\\")
    return found if op == "contains" else ~found


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _custom(c: Condition) -> ColumnElement[bool]:
    key = c.field[len(CUSTOM_PREFIX) :]
    raw = Contact.custom_fields[key].astext
    if c.op in ORDERING_OPS:
        if isinstance(c.value, Decimal):
            number = case((raw.regexp_match(NUMERIC_TEXT), cast(raw, Numeric)))
            return _ordered(number, c.op, c.value)
        return _ordered(raw.collate("C"), c.op, c.value)
    return _text_match(func.coalesce(raw, ""), c.op, c.value)


COMPARISONS: dict[str, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda column, value: column == value,
    "neq": lambda column, value: column != value,
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
}


def _ordered(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    return COMPARISONS[op](column, value)


def _date(column: ColumnElement[Any], op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    if op == "is_set":
        return column.is_not(None)
    if op == "is_not_set":
        return column.is_(None)
    if op in ("within_last", "not_within_last"):
        recent = column >= now - timedelta(days=value)
        return recent if op == "within_last" else or_(column.is_(None), ~recent)
    assert isinstance(value, DateValue)
    moment = value.resolve(now)
    if value.is_day:  # a whole day: "after the 31st" starts on the 1st, "until the 31st" ends with it
        start, end = moment, moment + DAY
        if op in ("gt", "lte"):
            return column >= end if op == "gt" else column < end
        return column >= start if op == "gte" else column < start
    return _ordered(column, op, moment)


# A delivery that reached the recipient: opening or clicking moves it on from "sent" (tracking).
RECEIVED = tuple(
    status.value
    for status in (
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.OPENED,
        DeliveryStatus.CLICKED,
        DeliveryStatus.UNSUBSCRIBED,
        DeliveryStatus.COMPLAINED,
    )
)
ENGAGEMENT_COLUMNS = {
    "opened": (Delivery.opened_at, Contact.last_opened),
    "clicked": (Delivery.clicked_at, Contact.last_clicked),
}


def _engagement(c: Condition, now: datetime) -> ColumnElement[bool]:
    negated = c.op.startswith("not_")
    action = c.op.removeprefix("not_").removesuffix("_within")
    per_delivery, latest = ENGAGEMENT_COLUMNS[action]
    if c.op.endswith("_within"):
        recent = latest >= now - timedelta(days=c.value)
        return or_(latest.is_(None), ~recent) if negated else recent
    received = select(Delivery.id).where(
        Delivery.campaign_id == c.value, Delivery.contact_id == Contact.id, Delivery.status.in_(RECEIVED)
    )
    if negated:
        return exists(received.where(per_delivery.is_(None)))
    return exists(received.where(per_delivery.is_not(None)))


class RowColumn(NamedTuple):
    """A contact's field kept in a table of its own, at most one row per contact."""

    column: ColumnElement[Any]
    contact_id: ColumnElement[Any]
    missing: Any  # the value of a contact without a row


# Scores live in contact_scores, one row per contact scored so far (score, grade and stage
# indexed); the count of messages sent in contact_sends, one row per contact ever sent one.
ROW_COLUMNS: dict[str, RowColumn] = {
    "score": RowColumn(ContactScore.score.expression, ContactScore.contact_id.expression, 0),
    "grade": RowColumn(ContactScore.grade.expression, ContactScore.contact_id.expression, "F"),
    "lifecycle_stage": RowColumn(ContactScore.stage.expression, ContactScore.contact_id.expression, "subscriber"),
    "emails_sent": RowColumn(ContactSends.emails_sent.expression, ContactSends.contact_id.expression, 0),
}


def _in_own_table(c: Condition) -> ColumnElement[bool]:
    """A semi-join on the field's table when a contact without a row fails the test, else an
    anti-join on the rows that fail it: either way one indexed pass, and contacts without a row
    are judged by the value they would have."""
    column, contact_id, missing = ROW_COLUMNS[c.field]
    test: ColumnElement[bool]
    if c.op in ("in", "not_in"):
        test = column.in_(c.value) if c.op == "in" else column.not_in(c.value)
        missing_passes = (missing in c.value) == (c.op == "in")
    else:
        test = _ordered(column, c.op, c.value)
        missing_passes = bool(COMPARISONS[c.op](missing, c.value))
    rows = select(contact_id).where(contact_id == Contact.id)
    return ~exists(rows.where(~test)) if missing_passes else exists(rows.where(test))
