"""The fields a segment rule can test and the operators each kind of field takes, with the words the
builder and the rules' sentence use for them."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.contacts.models import ContactStatus
from webapp.core.validation import CUSTOM_FIELD_NAME
from webapp.scoring.models import GRADES, STAGES

TEXT_OPS = ("eq", "neq", "contains", "not_contains", "starts_with", "is_set", "is_not_set")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte")
DATE_OPS = ("gt", "gte", "lt", "lte", "within_last", "not_within_last", "is_set", "is_not_set")
ARRAY_OPS = ("has_any", "has_all", "has_none")
CHOICE_OPS = ("eq", "neq", "in", "not_in")
CUSTOM_OPS = ("eq", "neq", "contains", "gt", "gte", "lt", "lte", "is_set", "is_not_set")
LIST_OPS = ("in", "not_in")
ENGAGEMENT_OPS = (
    "opened",
    "not_opened",
    "clicked",
    "not_clicked",
    "opened_within",
    "not_opened_within",
    "clicked_within",
    "not_clicked_within",
)
ORDERING_OPS = frozenset({"gt", "gte", "lt", "lte"})
NO_VALUE_OPS = frozenset({"is_set", "is_not_set"})

OP_LABELS = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "is_set": "is set",
    "is_not_set": "is empty",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "within_last": "in the last N days",
    "not_within_last": "not in the last N days",
    "has_any": "has any of",
    "has_all": "has all of",
    "has_none": "has none of",
    "in": "is one of",
    "not_in": "is none of",
    "opened": "opened campaign",
    "not_opened": "received but did not open campaign",
    "clicked": "clicked in campaign",
    "not_clicked": "received but did not click in campaign",
    "opened_within": "opened any campaign in the last N days",
    "not_opened_within": "opened no campaign in the last N days",
    "clicked_within": "clicked in any campaign in the last N days",
    "not_clicked_within": "clicked in no campaign in the last N days",
}
DATE_OP_LABELS = {"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before"}


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str  # text, number, date, array, choice, custom, list, engagement
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    "email": FieldSpec("Email", "text", TEXT_OPS),
    "first_name": FieldSpec("First name", "text", TEXT_OPS),
    "last_name": FieldSpec("Last name", "text", TEXT_OPS),
    "phone": FieldSpec("Phone", "text", TEXT_OPS),
    "company": FieldSpec("Company", "text", TEXT_OPS),
    "job_title": FieldSpec("Job title", "text", TEXT_OPS),
    "location": FieldSpec("Location", "text", TEXT_OPS),
    "language": FieldSpec("Language", "text", TEXT_OPS),
    "frequency": FieldSpec("Email frequency", "text", TEXT_OPS),
    "status": FieldSpec("Status", "choice", CHOICE_OPS, tuple(s.value for s in ContactStatus)),
    "tags": FieldSpec("Tags", "array", ARRAY_OPS),
    "topics": FieldSpec("Topics", "array", ARRAY_OPS),
    "emails_sent": FieldSpec("Emails sent", "number", NUMBER_OPS),
    "emails_opened": FieldSpec("Emails opened", "number", NUMBER_OPS),
    "emails_clicked": FieldSpec("Emails clicked", "number", NUMBER_OPS),
    "date_added": FieldSpec("Date added", "date", DATE_OPS),
    "last_updated": FieldSpec("Last updated", "date", DATE_OPS),
    "last_opened": FieldSpec("Last opened", "date", DATE_OPS),
    "last_clicked": FieldSpec("Last clicked", "date", DATE_OPS),
    "list": FieldSpec("List membership", "list", LIST_OPS),
    "engagement": FieldSpec("Engagement", "engagement", ENGAGEMENT_OPS),
    "score": FieldSpec("Lead score", "number", NUMBER_OPS),
    "grade": FieldSpec("Lead grade", "choice", CHOICE_OPS, GRADES),
    "lifecycle_stage": FieldSpec("Lifecycle stage", "choice", CHOICE_OPS, STAGES),
}
CUSTOM_PREFIX = "custom."
CUSTOM_SPEC = FieldSpec("Custom field", "custom", CUSTOM_OPS)


def field_spec(name: str) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX):
        return CUSTOM_SPEC if CUSTOM_FIELD_NAME.fullmatch(name[len(CUSTOM_PREFIX) :]) else None
    return FIELDS.get(name)


def op_label(spec: FieldSpec, op: str) -> str:
    return DATE_OP_LABELS.get(op, OP_LABELS[op]) if spec.kind == "date" else OP_LABELS[op]
