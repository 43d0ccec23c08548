"""Staff UI: the global suppression list. Counts per reason, the table (search as you type, filter
by reason, keyset pages), add one address, paste many, remove one with a reason (confirmation page).
Viewers read; editors change (role_guard: every POST needs editor)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import FormFields, after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.suppression.models import Suppression
from webapp.suppression.schemas import REASONS
from webapp.suppression.service import suppression
from webapp.suppression.service.suppression import DEFAULT_REASON, BulkReport

PAGE_SIZE = 50
VARY = {"Vary": "HX-Request, HX-Target"}  # the table URL answers with the page or the results only
REASON_OPTIONS = [(reason, reason) for reason in REASONS]
NEW_ENTRY = {"reason": DEFAULT_REASON}


def _typed(form: FormFields, *names: str) -> dict[str, str]:
    """A form's fields as typed, for the service and for showing the form again; the reason
    select's first choice when none came."""
    values = {name: first(form, name) for name in names}
    values["reason"] = values.get("reason") or DEFAULT_REASON
    return values


def _summary(report: BulkReport) -> str:
    parts = [f"Suppressed {report.added:,} new address{'es' if report.added != 1 else ''}"]
    if report.already:
        parts.append(f"{report.already:,} already on the list")
    if report.rejected:
        parts.append(f"{len(report.rejected):,} not added (see below)")
    return ", ".join(parts) + "."


class SuppressionController(Controller):
    path = "/suppression"

    @get("/", name="suppression")
    async def index(
        self,
        request: HTMXRequest,
        db: Db,
        q: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        params = suppression.search_terms(q, reason)
        if request.htmx.target == "suppression-results" and not request.htmx.history_restore_request:
            context = await self._results(request, db, params, cursor)
            return Template("suppression/_results.html", context=context, headers=VARY)
        return await self._page(request, db, params, cursor)

    async def _results(
        self, request: StaffRequest, db: AsyncSession, params: dict[str, str], cursor: str | None
    ) -> dict[str, Any]:
        found = await suppression.search(db, params["q"], params["reason"], cursor, limit=PAGE_SIZE)
        return {
            "params": params,
            "found": found,
            "cursor": cursor or "",
            "reasons": REASONS,
            "can_edit": request.user.can(Role.EDITOR),
        }

    async def _page(
        self,
        request: StaffRequest,
        db: AsyncSession,
        params: dict[str, str] | None = None,
        cursor: str | None = None,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        bulk: dict[str, str] | None = None,
        bulk_errors: dict[str, str] | None = None,
        report: BulkReport | None = None,
        status_code: int = 200,
    ) -> Template:
        stats = await suppression.stats(db)
        context = {
            **await self._results(request, db, params or suppression.search_terms("", ""), cursor),
            "stats": stats,
            "total": sum(stats.values()),
            "reason_options": REASON_OPTIONS,
            "values": values or NEW_ENTRY,
            "errors": errors or {},
            "bulk": bulk or NEW_ENTRY,
            "bulk_errors": bulk_errors or {},
            "report": report,
        }
        return Template("suppression/index.html", context=context, status_code=status_code, headers=VARY)

    @post("/", status_code=200)
    async def add(self, request: StaffRequest, db: Db) -> AnyResponse:
        values = _typed(await read_form(request), "email", "reason", "note")
        try:
            result = await suppression.add_entry(db, values, source="staff", created_by=request.user.name)
        except ValidationFailed as exc:
            return await self._page(request, db, values=values, errors=exc.errors, status_code=422)
        row = result.suppression
        if result.created:
            flash(request, f"{row.email} is suppressed ({row.reason}): no campaign will reach it.", "success")
        else:
            flash(
                request,
                f"{result.email} was suppressed already ({row.reason}, since "
                f"{row.created_at:%Y-%m-%d}); that entry was kept.",
                "warning",
            )
        return after_change(request, "/suppression")

    @post("/validate-email", status_code=200, opt=CHANGES_NOTHING)
    async def validate_email(self, request: StaffRequest, db: Db) -> Template:
        """The message under the email field, checked as the user pauses typing or leaves it."""
        raw = first(await read_form(request), "email")
        error, existing = "", None
        if raw.strip():
            try:
                existing = await suppression.check(db, raw)
            except ValidationFailed as exc:
                error = exc.errors["email"]
        return Template(
            "suppression/_email_feedback.html",
            context={"values": {"email": raw}, "errors": {"email": error} if error else {}, "existing": existing},
        )

    @post("/bulk", status_code=200)
    async def bulk(self, request: StaffRequest, db: Db) -> AnyResponse:
        bulk = _typed(await read_form(request), "addresses", "reason", "note")
        try:
            report = await suppression.add_pasted(
                db, bulk["addresses"], bulk["reason"], note=bulk["note"], created_by=request.user.name
            )
        except ValidationFailed as exc:
            return await self._page(request, db, bulk=bulk, bulk_errors=exc.errors, status_code=422)
        if not report.rejected:
            flash(request, _summary(report), "success")
            return after_change(request, "/suppression")
        # The refused lines stay in the box, to be corrected and sent again; the good ones are in.
        flash(request, _summary(report), "success" if report.added or report.already else "error")
        bulk["addresses"] = "\n".join(r.text for r in report.rejected)
        nothing_valid = not (report.added or report.already)
        return await self._page(request, db, bulk=bulk, report=report, status_code=422 if nothing_valid else 200)

    @get("/{suppression_id:int}/remove", opt=EDITORS_ONLY)
    async def confirm_remove(self, db: Db, suppression_id: FromPath[int]) -> Template:
        return _remove_page(await suppression.get(db, suppression_id), "", {})

    @post("/{suppression_id:int}/remove", status_code=200)
    async def remove(self, request: StaffRequest, db: Db, suppression_id: FromPath[int]) -> AnyResponse:
        row = await suppression.get(db, suppression_id)
        why = first(await read_form(request), "reason")
        try:
            removed = await suppression.remove(db, row.id, why, actor=request.user.name)
        except ValidationFailed as exc:
            return _remove_page(row, why, exc.errors, status_code=422)
        flash(
            request,
            f"{removed.email or 'The erased address'} was removed from the suppression list and may "
            "receive campaigns again.",
            "success",
        )
        return after_change(request, "/suppression")


def _remove_page(row: Suppression, why: str, errors: dict[str, str], status_code: int = 200) -> Template:
    return Template(
        "suppression/remove.html", context={"row": row, "why": why, "errors": errors}, status_code=status_code
    )
