"""The contacts pages' input: the table's query string, the contact form and ticked ids, read
leniently where a default will do and strictly (with a message) where it will not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request

from webapp.contacts.models import Contact, ContactStatus
from webapp.contacts.queries.table import SORTS, ContactFilter
from webapp.contacts.service import TEXT_FIELDS
from webapp.core.errors import ValidationFailed
from webapp.core.validation import is_valid_id

STATUSES = [s.value for s in ContactStatus]
MAX_FORM_FIELDS = 1000
MAX_SELECTED = 1000
FormFields = dict[str, list[str]]


def _clean(raw: Any, max_length: int) -> str:
    return str(raw or "").replace("\x00", "").strip()[:max_length]


@dataclass(frozen=True)
class TableParams:
    """Search, filters, sort and page of the contacts table. Unknown or malformed values fall back
    to the default, so a hand-edited URL shows a page rather than an error."""

    q: str = ""
    tag: str = ""
    company: str = ""
    status: str = ""
    active: str = ""
    sort: str = "newest"
    cursor: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> TableParams:
        status, active, sort = (str(params.get(name) or "") for name in ("status", "active", "sort"))
        return cls(
            q=_clean(params.get("q"), 200),
            tag=_clean(params.get("tag"), 50),
            company=_clean(params.get("company"), 200),
            status=status if status in STATUSES else "",
            active=active if active in {"yes", "no"} else "",
            sort=sort if sort in SORTS else "newest",
            cursor=_clean(params.get("cursor"), 1000),
        )

    @property
    def filters(self) -> ContactFilter:
        is_active = {"yes": True, "no": False}.get(self.active)
        return ContactFilter(q=self.q, tag=self.tag, company=self.company, status=self.status, is_active=is_active)

    @property
    def query(self) -> dict[str, str]:
        """Search, filters and sort for links (the page is added per link)."""
        return {
            "q": self.q,
            "tag": self.tag,
            "company": self.company,
            "status": self.status,
            "active": self.active,
            "sort": "" if self.sort == "newest" else self.sort,
        }


async def read_form(request: Request) -> FormFields:
    """Every field of a URL-encoded form as a list of values, blank ones included: Litestar's own
    parser drops blanks, which would misalign key/value rows and make a cleared input look unsent."""
    body = (await request.body()).decode("utf-8", "replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise ValidationFailed({"form": f"The form has more than {MAX_FORM_FIELDS} fields."}) from None
    form: FormFields = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def first(form: FormFields, name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def optional_id(raw: Any) -> int | None:
    """An id from a form or query value, or None for anything no row can have."""
    text = str(raw or "").strip()
    value = int(text) if re.fullmatch(r"[0-9]{1,19}", text) else 0
    return value if is_valid_id(value) else None


def parse_ids(values: list[str], what: str = "contact") -> list[int]:
    """Ticked ids (one or many `ids` fields); anything that is not an id is an error, not a guess."""
    ids: list[int] = []
    for raw in values:
        if (value := optional_id(raw)) is None:
            raise ValidationFailed({"ids": f"'{raw[:40]}' is not a {what} id."})
        if value not in ids:
            ids.append(value)
    if len(ids) > MAX_SELECTED:
        raise ValidationFailed({"ids": f"Select at most {MAX_SELECTED:,} contacts at a time."})
    return ids


# ---- the contact form ----------------------------------------------------------------------

FORM_TEXT_FIELDS = ("email", *TEXT_FIELDS)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def values_from_contact(contact: Contact) -> dict[str, Any]:
    """What the form shows for a saved contact."""
    values: dict[str, Any] = {name: getattr(contact, name) for name in FORM_TEXT_FIELDS}
    values.update(
        tags=", ".join(contact.tags),
        is_active=contact.is_active,
        status=contact.status,
        custom_rows=[(key, _shown(value)) for key, value in contact.custom_fields.items()],
    )
    return values


def values_from_form(form: FormFields) -> dict[str, Any]:
    """What was typed, exactly, for showing the form again. Custom fields arrive as parallel
    cf_key/cf_value fields (blanks included, so they line up); empty rows are dropped."""
    values: dict[str, Any] = {name: first(form, name) for name in FORM_TEXT_FIELDS}
    rows = zip(form.get("cf_key", []), form.get("cf_value", []), strict=False)  # a short list drops the rest
    values.update(
        tags=", ".join(form.get("tags", [])),
        is_active="is_active" in form,
        status=first(form, "status"),
        custom_rows=[(key, value) for key, value in rows if key.strip() or value.strip()],
    )
    return values


def contact_data(
    values: dict[str, Any], saved_custom: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Service input from form values, plus the problems only the form can have (a value without a
    name, a name twice). A saved number or true/false sent back unchanged keeps its type."""
    saved = saved_custom or {}
    custom: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for raw_key, value in values["custom_rows"]:
        key = raw_key.strip()
        if not key:
            errors["custom_fields"] = "Give every value a field name, or clear the row."
        elif key in custom:
            errors["custom_fields"] = f"The field '{key}' is there twice."
        else:
            unchanged = key in saved and _shown(saved[key]) == value
            custom[key] = saved[key] if unchanged else value
    data = {name: values[name] for name in FORM_TEXT_FIELDS}
    data.update(tags=values["tags"], is_active=values["is_active"], status=values["status"], custom_fields=custom)
    return data, errors
