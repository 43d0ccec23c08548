"""Staff UI: the segment builder. A segment is a dynamic list (rules over all contacts) or a
segmented list (rules over one static list's members); this page creates and edits both.

The rule tree travels as flat form fields (lists/schemas/rule_form.py). Every change re-renders on the server:
buttons and the field/operator selects post the whole form to /lists/segments/builder, which
answers HTMX with the rules partial (and the count out of band) and a plain browser with the page;
typing posts to /lists/segments/count, which answers with the count, the preview and the error slot
of every row. Viewers see the builder read-only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import Form, after_change, field_errors, optional_id
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.template_helpers import number
from webapp.lists.models import EmailList, ListType
from webapp.lists.schemas.lists import CHOOSE_PARENT, MAX_LENGTHS
from webapp.lists.schemas.rule_form import ID, focus_after, parse_form, text_of
from webapp.lists.schemas.rule_view import (
    Names,
    blank_conditions,
    build_view,
    builder_context,
    describe,
    referenced_ids,
    row_errors,
)
from webapp.lists.schemas.rules import EMPTY_RULES, parse_rules
from webapp.lists.service import lists, segments

SEGMENT_TYPES = (ListType.DYNAMIC.value, ListType.SEGMENTED.value)
BUILDER_URL = "/lists/segments/builder"
COUNT_URL = "/lists/segments/count"
FIX_RULES = "Fix the marked conditions to see how many contacts match."
FILL_IN = "Fill in each condition's value to see how many contacts match."


@dataclass
class Draft:
    """The segment as the form holds it, valid or not."""

    name: str = ""
    description: str = ""
    list_type: str = ListType.DYNAMIC.value
    parent_list_id: int | None = None
    rules: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(EMPTY_RULES))

    @classmethod
    def of(cls, email_list: EmailList) -> Draft:
        return cls(
            email_list.name,
            email_list.description,
            email_list.list_type,
            email_list.parent_list_id,
            email_list.rules or copy.deepcopy(EMPTY_RULES),
        )

    @property
    def parent(self) -> int | None:
        return self.parent_list_id if self.list_type == ListType.SEGMENTED.value else None


@dataclass
class Outcome:
    """The live count and preview, or why there is none (with the rows' errors)."""

    count: int | None = None
    preview: list[Contact] = field(default_factory=list)
    states: dict[int, contacts.MailState] = field(default_factory=dict)  # of the preview's contacts
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    problem: str = ""
    pending: bool = False  # the problem is a row still being filled in, not a mistake


def _matching(count: int) -> str:
    return "1 contact matches" if count == 1 else f"{count:,} contacts match"


def _draft(data: Form, email_list: EmailList | None) -> Draft:
    list_type = email_list.list_type if email_list else text_of(data.get("list_type")) or ListType.DYNAMIC.value
    return Draft(
        name=text_of(data.get("name")),
        description=text_of(data.get("description")),
        list_type=list_type,
        parent_list_id=optional_id(text_of(data.get("parent_list_id"))),
        rules=parse_form(data, text_of(data.get("action")) or None),
    )


async def _evaluate(db: AsyncSession, draft: Draft) -> Outcome:
    try:
        parse_rules(draft.rules)
    except ValidationFailed as exc:
        rows, _ = row_errors(exc.errors)
        blank = blank_conditions(draft.rules)  # rows still being filled in: saving says so, not a keystroke
        shown = {path: parts for path, parts in rows.items() if path not in blank}
        if rows and not shown:
            return Outcome(problem=FILL_IN, pending=True)
        return Outcome(rows=shown, problem=FIX_RULES)
    if draft.list_type == ListType.SEGMENTED.value and draft.parent is None:
        return Outcome(problem=CHOOSE_PARENT)
    count = await segments.count_rules(db, draft.rules, draft.parent)
    preview = await segments.preview_rules(db, draft.rules, draft.parent) if count else []
    if count is None or preview is None:
        return Outcome(problem=segments.too_slow_to_count(get_settings().segments.live_count_seconds))
    return Outcome(count, preview, await contacts.states_of(db, preview))


async def _choices(db: AsyncSession, parent: int | None) -> dict[str, Any]:
    """What the pickers offer; an archived list only as the parent the segment already has."""
    choices = await segments.builder_choices(db)
    parents = [
        (str(x.id), f"{x.name} ({number(x.contact_count)})")
        for x in choices.static_lists
        if x.is_active or x.id == parent
    ]
    return {
        "parent_options": [("", "Choose a static list…"), *parents],
        **builder_context(choices.static_lists, choices.campaigns, choices.custom_keys),
    }


async def _context(
    db: AsyncSession,
    request: StaffRequest,
    draft: Draft,
    email_list: EmailList | None,
    outcome: Outcome,
    errors: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    rows = {**outcome.rows, **(errors or {})}
    readonly = not request.user.can(Role.EDITOR)
    return {
        "email_list": email_list,
        "draft": draft,
        "outcome": outcome,
        "readonly": readonly,
        "tree": build_view(draft.rules, rows),
        "builder_url": BUILDER_URL,
        "count_url": COUNT_URL,
        "action": f"/lists/{email_list.id}/segment" if email_list else "/lists/segments",
        "focus": "",  # the id of the control that takes focus (autofocus) after a builder button
        **await _choices(db, email_list.parent_list_id if email_list else None),
    }


async def _page(
    db: AsyncSession,
    request: StaffRequest,
    draft: Draft,
    email_list: EmailList | None,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus: str = "",
) -> Template:
    rows, fields = row_errors(errors or {})
    outcome = await _evaluate(db, draft)
    if rows and outcome.problem == "":
        outcome = Outcome(problem=FIX_RULES)
    context = await _context(db, request, draft, email_list, outcome, rows)
    attempted = errors is not None  # a save was tried
    context |= {"errors": fields, "attempted": attempted, "max_lengths": MAX_LENGTHS, "focus": focus}
    return Template("lists/segments/page.html", context=context, status_code=status_code)


async def _segment(db: AsyncSession, list_id: Any) -> EmailList | None:
    """The segment a builder form belongs to (its hidden list_id), if any."""
    return await lists.get_list(db, int(list_id)) if isinstance(list_id, str) and ID.match(list_id) else None


# The API takes an empty rule set when sent on purpose (lists.schemas.NEEDS_RULES); a dynamic list's
# form saved before any condition was added is a slip, and would match every contact. (A segmented
# list without conditions is all of the list it was chosen from: asked for.)
NO_CONDITIONS = "Add at least one condition: without one, this dynamic list would match every contact."


def _matches_everyone(draft: Draft) -> bool:
    return draft.list_type == ListType.DYNAMIC.value and not _has_condition(draft.rules)


def _has_condition(group: Any) -> bool:
    items = group.get("conditions") if isinstance(group, dict) else None
    return any(isinstance(c, dict) and ("field" in c or _has_condition(c)) for c in items or [])


def _save_values(draft: Draft, email_list: EmailList | None) -> dict[str, Any]:
    """The draft as a list's data (ListCreate for a new segment, ListUpdate for a saved one)."""
    values: dict[str, Any] = {"name": draft.name, "description": draft.description, "rules": draft.rules}
    if email_list is None:
        values["list_type"] = draft.list_type
    if draft.list_type == ListType.SEGMENTED.value:
        values["parent_list_id"] = draft.parent_list_id
    return values


async def segment_summary(db: AsyncSession, email_list: EmailList) -> dict[str, Any] | None:
    """For a list's page: a segment's rules in words and its count now (its matches are its members)."""
    if email_list.list_type not in SEGMENT_TYPES:
        return None
    seconds = get_settings().segments.live_count_seconds
    counted = await segments.refresh_count(db, email_list, seconds)
    list_ids, campaign_ids = referenced_ids(email_list.rules)
    if email_list.parent_list_id:
        list_ids.add(email_list.parent_list_id)
    list_names, campaign_names = await segments.names_of(db, list_ids, campaign_ids)
    return {
        "words": describe(email_list.rules, Names(list_names, campaign_names)),
        "parent": list_names.get(email_list.parent_list_id) if email_list.parent_list_id else None,
        "too_slow": None if counted is not None else segments.too_slow_to_count(seconds),
    }


class SegmentsController(Controller):
    path = "/lists"

    @get("/segments/new", opt=EDITORS_ONLY)
    async def new(self, request: StaffRequest, db: Db) -> Template:
        return await _page(db, request, Draft(), None)

    @post("/segments")
    async def create(self, request: StaffRequest, db: Db, data: Form) -> AnyResponse:
        draft = _draft(data, None)
        if _matches_everyone(draft):
            return await _page(db, request, draft, None, errors={"rules": NO_CONDITIONS}, status_code=422)
        try:
            email_list = await lists.create_list(db, _save_values(draft, None), created_by=request.user.name)
        except (ValidationFailed, Conflict) as exc:
            return await _page(db, request, draft, None, errors=field_errors(exc), status_code=422)
        flash(request, f"Segment '{email_list.name}' created: {_matching(email_list.contact_count)} now.", "success")
        return after_change(request, f"/lists/{email_list.id}")

    @get("/{list_id:int}/segment")
    async def show(self, request: StaffRequest, db: Db, list_id: FromPath[int]) -> Template:
        email_list = await lists.get_list(db, list_id)
        if email_list.list_type not in SEGMENT_TYPES:
            raise NotFound(f"List '{email_list.name}' is static: it has members, not rules.")
        return await _page(db, request, Draft.of(email_list), email_list)

    @post("/{list_id:int}/segment")
    async def update(self, request: StaffRequest, db: Db, list_id: FromPath[int], data: Form) -> AnyResponse:
        email_list = await lists.get_list(db, list_id)
        if email_list.list_type not in SEGMENT_TYPES:
            raise Conflict(f"List '{email_list.name}' is static: it has members, not rules.", "list_type")
        draft = _draft(data, email_list)
        if _matches_everyone(draft):
            return await _page(db, request, draft, email_list, errors={"rules": NO_CONDITIONS}, status_code=422)
        try:
            await lists.update_list(db, list_id, _save_values(draft, email_list))
        except (ValidationFailed, Conflict) as exc:  # raised before anything on the list changed
            return await _page(db, request, draft, email_list, errors=field_errors(exc), status_code=422)
        flash(request, f"Segment saved: {_matching(email_list.contact_count)} now.", "success")
        return after_change(request, f"/lists/{list_id}")

    @post("/segments/builder", opt=CHANGES_NOTHING)
    async def builder(self, request: HTMXRequest, db: Db, data: Form) -> Template:
        """Add, remove or re-render rows; HTMX gets the rules partial, a plain browser the page."""
        email_list = await _segment(db, data.get("list_id"))
        draft = _draft(data, email_list)
        focus = focus_after(text_of(data.get("action")), draft.rules)
        if not request.htmx or request.htmx.boosted:
            return await _page(db, request, draft, email_list, focus=focus)
        outcome = await _evaluate(db, draft)
        context = await _context(db, request, draft, email_list, outcome) | {"focus": focus}
        return Template("lists/segments/_builder_response.html", context=context)

    @post("/segments/count", opt=CHANGES_NOTHING)
    async def count(self, db: Db, data: Form) -> Template:
        email_list = await _segment(db, data.get("list_id"))
        draft = _draft(data, email_list)
        outcome = await _evaluate(db, draft)
        return Template(
            "lists/segments/_count_response.html",
            context={"outcome": outcome, "tree": build_view(draft.rules, outcome.rows)},
        )
