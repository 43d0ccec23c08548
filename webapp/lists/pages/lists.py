"""Staff UI: lists (create, edit, archive, delete) and their members (paste to add, tick to remove)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.service import automations
from webapp.campaigns.service import listing as campaign_listing
from webapp.contacts import service as contacts
from webapp.core.access import EDITORS_ONLY
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import Form, after_change, field_errors, form_ids
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.template_helpers import query
from webapp.lists.models import EmailList, ListType
from webapp.lists.pages.segments import segment_summary
from webapp.lists.schemas.lists import MAX_LENGTHS
from webapp.lists.service import lists, segments
from webapp.lists.service.lists import PasteReport


def _form_values(data: Form) -> dict[str, Any]:
    """What the list form sent, for showing it again; a blank input does not arrive, so it counts as
    empty."""
    values = {
        "name": data.get("name", ""),
        "description": data.get("description", ""),
        "tags": data.get("tags", ""),
        "list_type": data.get("list_type") or ListType.STATIC.value,
    }
    if data.get("signup_shown"):  # the form had the public sign-up section (unticked boxes are not sent)
        values |= {
            "is_public": "is_public" in data,
            "double_opt_in": "double_opt_in" in data,
            "consent_text": data.get("consent_text", ""),
        }
    return values


def _list_data(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as a list's data (ListCreate's shape): tags typed as comma-separated text."""
    tags = values["tags"]
    return {**values, "tags": tags.split(",") if isinstance(tags, str) else tags}


def _saved_values(email_list: EmailList) -> dict[str, Any]:
    """What the list form shows for a saved list."""
    return {
        "name": email_list.name,
        "description": email_list.description,
        "tags": ", ".join(email_list.tags),
        "list_type": email_list.list_type,
        "is_public": email_list.is_public,
        "double_opt_in": email_list.double_opt_in,
        "consent_text": email_list.consent_text,
    }


def _form(
    email_list: EmailList | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    return Template(
        "lists/form.html",
        context={"email_list": email_list, "values": values, "errors": errors, "max_lengths": MAX_LENGTHS},
        status_code=status_code,
    )


def _summary(report: PasteReport) -> str:
    parts = [f"Added {report.added:,} contact{'s' if report.added != 1 else ''} to the list"]
    if report.created:
        parts.append(f"{report.created:,} of them new")
    if report.already:
        parts.append(f"{report.already:,} already on it")
    if report.rejected:
        parts.append(f"{len(report.rejected):,} not added (see below)")
    return ", ".join(parts) + "."


async def _users_of(db: AsyncSession, list_id: int) -> dict[str, list[Any]]:
    """What deleting the list would change: unfinished campaigns going to it, automations using it,
    and the segments made of it (which keep it from being deleted)."""
    return {
        "campaigns": await campaign_listing.unsent_to_list(db, list_id),
        "automations": await automations.using_list(db, list_id),
        "segments": await lists.segments_of(db, list_id),
    }


def _archived_notice(noun: str, users: dict[str, list[Any]]) -> tuple[str, str]:
    """Archiving only hides a list from pickers: say so when campaigns or automations go on using it."""
    named = [
        f"the {kind[:-1]} '{found[0].name}'" if len(found) == 1 else f"{len(found)} {kind}"
        for kind, found in users.items()
        if found
    ]
    if not named:
        return f"{noun} archived. Restore it any time.", "success"
    verb = "uses" if sum(map(len, users.values())) == 1 else "use"
    who = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"{noun} archived and hidden from pickers, but {who} still {verb} it.", "warning"


SEGMENTS_ELSEWHERE = "Dynamic and segmented lists are made with New segment, which asks for their rules."


class ListsController(Controller):
    path = "/lists"

    @get("/", name="lists")
    async def index(self, db: Db) -> Template:
        by_name = await lists.all_lists(db)
        return Template(
            "lists/index.html", context={"lists": sorted(by_name, key=lambda email_list: not email_list.is_active)}
        )

    @get("/new", opt=EDITORS_ONLY)
    async def new(self) -> Template:
        return _form(None, {"list_type": ListType.STATIC.value, "double_opt_in": True}, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db, data: Form) -> AnyResponse:
        values = _form_values(data)
        if values["list_type"] != ListType.STATIC.value:  # the form offers no other (their rules are the builder's)
            return _form(None, values, {"list_type": SEGMENTS_ELSEWHERE}, status_code=422)
        try:
            email_list = await lists.create_list(db, _list_data(values), created_by=request.user.name)
        except (ValidationFailed, Conflict) as exc:
            return _form(None, values, field_errors(exc), status_code=422)
        flash(request, f"List '{email_list.name}' created. Add contacts by pasting their addresses.", "success")
        return after_change(request, f"/lists/{email_list.id}")

    @get("/{list_id:int}")
    async def detail(
        self, request: HTMXRequest, db: Db, list_id: FromPath[int], cursor: FromQuery[str | None] = None
    ) -> Template:
        return await self._detail(request, db, list_id, cursor)

    async def _detail(
        self,
        request: HTMXRequest,
        db: AsyncSession,
        list_id: int,
        cursor: str | None = None,
        *,
        pasted: str = "",
        paste_errors: dict[str, str] | None = None,
        report: PasteReport | None = None,
        status_code: int = 200,
    ) -> Template:
        email_list = await lists.get_list(db, list_id)
        members = await segments.matches_page(db, email_list, cursor)
        context = {
            "email_list": email_list,
            "in_use": any((await _users_of(db, list_id)).values()),  # Delete then opens the page saying what uses it
            "members": members,
            "states": await contacts.states_of(db, members.contacts) if members else {},
            "cursor": cursor or "",
            "pasted": pasted,
            "paste_errors": paste_errors or {},
            "report": report,
            "public_url": get_settings().server.public_url,
        }
        if request.htmx.target == "list-members" and not request.htmx.history_restore_request:
            return Template("lists/_members.html", context=context)
        context["segment"] = await segment_summary(db, email_list)  # None for static lists
        return Template("lists/detail.html", context=context, status_code=status_code)

    @post("/{list_id:int}/members")
    async def add_members(self, request: HTMXRequest, db: Db, list_id: FromPath[int], data: Form) -> AnyResponse:
        pasted = data.get("addresses", "")
        try:
            report = await lists.add_by_email(db, list_id, {"addresses": pasted})
        except ValidationFailed as exc:
            pasted = pasted if isinstance(pasted, str) else ""
            return await self._detail(request, db, list_id, pasted=pasted, paste_errors=exc.errors, status_code=422)
        if not report.rejected:
            flash(request, _summary(report), "success")
            return after_change(request, f"/lists/{list_id}")
        # Show what was refused, and keep those lines in the box so they can be corrected and sent again.
        flash(request, _summary(report), "success" if report.added or report.already else "error")
        retry = "\n".join(r.text for r in report.rejected)
        nothing_valid = not (report.added or report.already)
        return await self._detail(
            request, db, list_id, pasted=retry, report=report, status_code=422 if nothing_valid else 200
        )

    @post("/{list_id:int}/members/remove")
    async def remove_members(self, request: StaffRequest, db: Db, list_id: FromPath[int], data: Form) -> AnyResponse:
        ids = form_ids(data)
        back = f"/lists/{list_id}"
        if isinstance(cursor := data.get("cursor"), str) and cursor:
            back += "?" + query({"cursor": cursor})
        if not ids:
            await lists.get_list(db, list_id)
            flash(request, "Tick the contacts to remove first.", "error")
            return after_change(request, back)
        removed = await lists.remove_members(db, list_id, ids)
        flash(request, f"Removed {removed:,} contact{'s' if removed != 1 else ''} from the list.", "success")
        return after_change(request, back)

    @get("/{list_id:int}/edit", opt=EDITORS_ONLY)
    async def edit(self, db: Db, list_id: FromPath[int]) -> Template:
        email_list = await lists.get_list(db, list_id)
        return _form(email_list, _saved_values(email_list), {})

    @post("/{list_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, list_id: FromPath[int], data: Form) -> AnyResponse:
        email_list = await lists.get_list(db, list_id)
        values = _form_values(data)
        del values["list_type"]  # a list keeps its type
        try:
            await lists.update_list(db, list_id, _list_data(values))
        except (ValidationFailed, Conflict) as exc:
            return _form(email_list, {**values, "list_type": email_list.list_type}, field_errors(exc), status_code=422)
        flash(request, "List saved.", "success")
        return after_change(request, f"/lists/{list_id}")

    @post("/{list_id:int}/archive")
    async def archive(self, request: StaffRequest, db: Db, list_id: FromPath[int]) -> AnyResponse:
        email_list = await lists.get_list(db, list_id)
        archiving = email_list.is_active
        await lists.update_list(db, list_id, {"is_active": not archiving})
        noun = "List" if email_list.list_type == ListType.STATIC.value else "Segment"
        if archiving:
            flash(request, *_archived_notice(noun, await _users_of(db, list_id)))
        else:
            flash(request, f"{noun} restored.", "success")
        return after_change(request, f"/lists/{list_id}")

    @get("/{list_id:int}/delete", opt=EDITORS_ONLY)
    async def confirm_delete(self, db: Db, list_id: FromPath[int]) -> Template:
        email_list = await lists.get_list(db, list_id)
        return Template("lists/delete.html", context={"email_list": email_list, **await _users_of(db, list_id)})

    @post("/{list_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, list_id: FromPath[int]) -> AnyResponse:
        email_list = await lists.get_list(db, list_id)
        name = email_list.name
        try:
            await lists.delete_list(db, list_id)
        except Conflict as exc:
            flash(request, exc.message, "error")
            return after_change(request, f"/lists/{list_id}/delete")
        flash(request, f"List '{name}' deleted. Its contacts were kept.", "success")
        return after_change(request, "/lists")
