"""Staff UI: contacts. The table (search as you type, filters, sort, keyset pages, bulk actions),
the detail page, and the create/edit form with an inline email check."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from secrets import token_hex
from typing import Any
from urllib.parse import parse_qsl

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import enrolments as automation_enrolments
from webapp.campaigns.service.listing import history_of_contact
from webapp.contact_events import service as contact_events
from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.contacts.schemas import (
    SORTS,
    STATUSES,
    ContactCreate,
    TableParams,
    contact_data,
    values_from_contact,
    values_from_form,
)
from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.audit_trail import CHANGES_NOTHING, changed_nothing
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, first, optional_id, parse_ids, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.schemas import load
from webapp.core.validation import MAX_TAGS, TAG_MAX_LENGTH
from webapp.lists.models import EmailList, ListType
from webapp.lists.service import lists
from webapp.scoring import service as scoring
from webapp.scoring.schemas import STAGE_LABELS
from webapp.suppression.service import suppression

PAGE_SIZE = 50
# The table URL answers with the whole page or, for the search box's requests, the results only.
VARY = {"Vary": "HX-Request, HX-Target"}
NEW_VALUES: dict[str, Any] = {"is_active": True, "status": "active", "custom_rows": []}


def _plural(n: int) -> str:
    return f"{n:,} contact" + ("" if n == 1 else "s")


def _can_edit(request: StaffRequest) -> bool:
    return request.user.can(Role.EDITOR)


def _back(raw: str) -> str:
    """Where a bulk action returns to: the contacts table or a contact page of this site, nothing else."""
    return raw if re.fullmatch(r"/contacts(/[0-9]+|\?[^\\\s]*)?", raw) else "/contacts"


def _form(
    contact: Contact | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    duplicate_id: int | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "contacts/form.html",
        context={
            "contact": contact,
            "values": values,
            "errors": errors or {},
            "duplicate_id": duplicate_id,
            "status_options": [(status, status.capitalize()) for status in STATUSES],
        },
        status_code=status_code,
    )


def _confirm(
    message: str, action: str, fields: list[tuple[str, Any]], back: str, danger: bool = True, **context: Any
) -> Template:
    """The confirmation page: the same POST again with the fields that say it was confirmed."""
    return Template(
        "contacts/confirm.html",
        context={"message": message, "action": action, "fields": fields, "back": back, "danger": danger, **context},
    )


def _confirm_delete(message: str, action: str, ids: list[int], back: str) -> Template:
    fields = [*(("ids", i) for i in ids), ("action", "delete"), ("next", back), ("confirm", "yes")]
    return _confirm(message, action, fields, back)


async def _static_lists(db: AsyncSession, exclude: Collection[int] = ()) -> list[Any]:
    return [
        email_list
        for email_list in await lists.all_lists(db, active_only=True)
        if email_list.list_type == ListType.STATIC.value and email_list.id not in exclude
    ]


@dataclass(frozen=True)
class _BulkAction:
    """One bulk action with its input checked, so that nothing is asked about a change that cannot be made."""

    action: str
    tag: str = ""
    email_list: EmailList | None = None

    def question(self, n: int) -> str:
        return {
            "tag": f"Add the tag “{self.tag}” to {_plural(n)}?",
            "untag": f"Remove the tag “{self.tag}” from {_plural(n)}?",
            "add_to_list": f"Add {_plural(n)} to the list {self.email_list.name if self.email_list else ''}?",
            "delete": f"Delete {_plural(n)}? This cannot be undone.",
        }[self.action]

    async def apply(self, db: AsyncSession, which: contacts.Selection) -> str:
        """Do it, in one statement however many contacts; the flash message that says what happened."""
        if self.action == "tag":
            full = await contacts.count_full(db, which, self.tag)
            tagged = f"Tagged {_plural(await contacts.add_tag(db, which, self.tag))}."
            return tagged + (f" {_plural(full)} with {MAX_TAGS} tags already not tagged." if full else "")
        if self.action == "untag":
            return f"Removed the tag from {_plural(await contacts.remove_tag(db, which, self.tag))}."
        if self.email_list is not None:
            added = await lists.add_members(db, self.email_list.id, contacts.chosen(which))
            return f"Added {_plural(added)} to {self.email_list.name}."
        return f"Deleted {_plural(await contacts.delete_contacts(db, which))}."


async def _bulk_action(db: AsyncSession, form: FormFields) -> _BulkAction:
    action = first(form, "action")
    if action in ("tag", "untag"):
        return _BulkAction(action, tag=contacts.one_tag(first(form, "tag")))
    if action == "add_to_list":
        if (list_id := optional_id(first(form, "list_id"))) is None:
            raise ValidationFailed({"list_id": "Choose a list to add the contacts to."})
        return _BulkAction(action, email_list=await lists.get_static_list(db, list_id))
    if action == "delete":
        return _BulkAction(action)
    raise ValidationFailed({"action": "Choose what to do with the selected contacts."})


async def _on_all_matching(
    request: StaffRequest, db: AsyncSession, bulk: _BulkAction, form: FormFields, back: str
) -> AnyResponse:
    """A bulk action on every contact the table's filter matches: first a confirmation stating how
    many, then (confirmed with that number, and still that number) the change, as one statement."""
    params = TableParams.from_query(dict(parse_qsl(first(form, "matching"))))
    count, confirmed = await contacts.count_exactly(db, params.filters), first(form, "confirm")
    if confirmed != str(count):
        kept = [(name, first(form, name)) for name in ("scope", "matching", "action", "tag", "list_id")]
        fields = [*kept, ("next", back), ("confirm", count)]
        note = f"The number of matching contacts changed from {confirmed} to {count}." if confirmed.isdigit() else ""
        danger = bulk.action == "delete"
        changed_nothing(request)
        return _confirm(bulk.question(count), "/contacts/bulk", fields, back, danger, params=params, note=note)
    flash(request, await bulk.apply(db, params.filters), "success")
    return after_change(request, back)


class ContactsController(Controller):
    path = "/contacts"

    @get("/", name="contacts")
    async def index(self, request: HTMXRequest, db: Db) -> Template:
        params = TableParams.from_query(request.query_params)
        filters = params.filters
        result = await contacts.page(db, filters, sort=params.sort, cursor=params.cursor or None, limit=PAGE_SIZE)
        count, exact = await contacts.count(db, filters, result)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        context = {
            "params": params,
            "page": result,
            "states": await contacts.states_of(db, result.contacts),
            "count": count,
            "exact": exact,
            "here": _back(here),
            "can_edit": _can_edit(request),
            "sorts": SORTS,
            "statuses": STATUSES,
            "tag_max_length": TAG_MAX_LENGTH,
            "filtered": not filters.is_empty,
        }
        if request.htmx.target == "contacts-results":
            return Template("contacts/_results_response.html", context=context, headers=VARY)
        context["lists"] = await _static_lists(db) if context["can_edit"] else []
        return Template("contacts/index.html", context=context, headers=VARY)

    @post("/bulk", status_code=200)
    async def bulk(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        back, matching = _back(first(form, "next")), first(form, "scope") == "matching"
        ids = [] if matching else parse_ids(form.get("ids", []))  # a malformed id is a 422, not a guess
        if not matching and not ids:
            changed_nothing(request)
            flash(request, "Select at least one contact first.", "error")
            return after_change(request, back)
        try:
            bulk = await _bulk_action(db, form)
            if matching:
                return await _on_all_matching(request, db, bulk, form, back)
            if bulk.action == "delete" and first(form, "confirm") != "yes":
                changed_nothing(request)
                return _confirm_delete(bulk.question(len(ids)), "/contacts/bulk", ids, back)
            flash(request, await bulk.apply(db, ids), "success")
        except ValidationFailed as exc:
            changed_nothing(request)
            flash(request, " ".join(exc.errors.values()), "error")
        return after_change(request, back)

    @get("/new", opt=EDITORS_ONLY)
    async def new(self) -> Template:
        return _form(None, NEW_VALUES)

    @post("/", status_code=200)
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        return await self._save(request, db, None)

    @get("/field-row", opt=EDITORS_ONLY)
    async def field_row(self) -> Template:
        """One more empty custom field row for the form ("Add field")."""
        return Template(
            "contacts/_field_row.html", context={"key": "", "value": "", "row_id": f"cf-row-{token_hex(4)}"}
        )

    @post("/validate-email", status_code=200, opt=CHANGES_NOTHING)
    async def validate_email(self, request: StaffRequest, db: Db) -> Template:
        """The message under the email field, checked as the user leaves it or pauses typing."""
        form = await read_form(request)
        raw, exclude = first(form, "email"), optional_id(request.query_params.get("exclude"))
        error, duplicate_id, opted_out = "", None, None
        if raw.strip():
            try:
                opted_out = await contacts.opted_out_status(db, await contacts.check_email(db, raw, exclude))
            except ValidationFailed as exc:
                error = exc.errors["email"]
            except Conflict as exc:
                error, duplicate_id = exc.message, exc.existing_id
        errors = {"email": error} if error else {}
        return Template(
            "contacts/_email_feedback.html",
            context={"values": {"email": raw}, "errors": errors, "duplicate_id": duplicate_id, "opted_out": opted_out},
        )

    @get("/{contact_id:int}")
    async def show(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> Template:
        contact = await contacts.get_contact(db, contact_id)
        member_of = await lists.lists_of_contact(db, contact_id)
        can_edit = _can_edit(request)
        other_lists = await _static_lists(db, {email_list.id for email_list in member_of}) if can_edit else []
        return Template(
            "contacts/show.html",
            context={
                "contact": contact,
                "member_of": member_of,
                "other_lists": other_lists,
                "can_edit": can_edit,
                "history": await history_of_contact(db, contact_id),
                "suppressed": await suppression.status_of(db, contact.email),
                "state": await contacts.state_of(db, contact),
                "score": await scoring.score_of(db, contact_id),
                "score_history": (await scoring.history(db, contact_id)).changes,
                "stage_labels": STAGE_LABELS,
                "events": await contact_events.recent(db, contact_id),
                "automation_runs": await automation_enrolments.runs_of_contact(db, contact_id),
            },
        )

    @get("/{contact_id:int}/edit", opt=EDITORS_ONLY)
    async def edit(self, db: Db, contact_id: FromPath[int]) -> Template:
        contact = await contacts.get_contact(db, contact_id)
        return _form(contact, values_from_contact(contact))

    @post("/{contact_id:int}/edit", status_code=200)
    async def update(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> AnyResponse:
        return await self._save(request, db, await contacts.get_contact(db, contact_id))

    @post("/{contact_id:int}/delete", status_code=200)
    async def delete(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> AnyResponse:
        contact = await contacts.get_contact(db, contact_id)
        if first(await read_form(request), "confirm") != "yes":
            return _confirm_delete(
                f"Delete {contact.email}? This cannot be undone.",
                f"/contacts/{contact.id}/delete",
                [],
                f"/contacts/{contact.id}",
            )
        await contacts.delete_contacts(db, [contact.id])
        flash(request, f"Deleted {contact.email}.", "success")
        return after_change(request, "/contacts")

    @post("/{contact_id:int}/lists/{list_id:int}/remove", status_code=200)
    async def remove_from_list(
        self, request: StaffRequest, db: Db, contact_id: FromPath[int], list_id: FromPath[int]
    ) -> AnyResponse:
        contact = await contacts.get_contact(db, contact_id)
        email_list = await lists.get_list(db, list_id)
        await lists.remove_members(db, email_list.id, [contact.id])
        flash(request, f"Removed {contact.email} from {email_list.name}.", "success")
        return after_change(request, f"/contacts/{contact.id}")

    async def _save(self, request: StaffRequest, db: AsyncSession, contact: Contact | None) -> AnyResponse:
        """Create or update from the form; on a problem the form again, as typed, with messages (422)."""
        form = await read_form(request)
        values = values_from_form(form)
        if "add_field" in form:  # "Add field" without JavaScript: the form again, its rows kept, one empty row after
            return _form(contact, values)
        data, errors = contact_data(values, contact.custom_fields if contact else None)
        try:
            if errors:  # the form's own problems, plus whatever the service says about the rest
                load(ContactCreate, data)
                raise ValidationFailed(errors)
            if contact is None:
                saved = await contacts.create_contact(db, data, by=request.user.name)
            else:
                saved = await contacts.update_contact(db, contact.id, data, by=request.user.name)
        except ValidationFailed as exc:
            errors, duplicate_id = {**exc.errors, **errors}, None
            if "email" not in errors:  # a taken address is said with the rest, not once they are fixed
                try:
                    await contacts.check_email(db, data.get("email"), contact.id if contact else None)
                except Conflict as conflict:
                    errors["email"], duplicate_id = conflict.message, conflict.existing_id
            return _form(contact, values, errors, duplicate_id, status_code=422)
        except Conflict as exc:
            return _form(contact, values, {"email": exc.message}, exc.existing_id, status_code=422)
        flash(request, "Contact added." if contact is None else "Changes saved.", "success")
        return after_change(request, f"/contacts/{saved.id}")
