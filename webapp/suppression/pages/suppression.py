"""Staff UI: the global suppression list. Counts per reason, the table (search as you type, filter
by reason, keyset pages), add one address, paste many, remove one with a reason (confirmation page).
Viewers read; editors change (role_guard: every POST needs editor)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.errors import ValidationFailed
from webapp.core.forms import Form, after_change
from webapp.suppression.service import suppression
from webapp.suppression.service.suppression import REASONS, BulkReport

PAGE_SIZE = 50
VARY = {"Vary": "HX-Request, HX-Target"}  # the table URL answers with the page or the results only


def _text(data: dict[str, Any], name: str, limit: int = 100_000) -> str:
    """A form field as typed (repeated fields: the first); blank fields do not arrive at all."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:limit]


def _params(q: str | None, reason: str | None) -> dict[str, str]:
    return {"q": (q or "").strip()[:320], "reason": reason if reason in REASONS else ""}


def _entry_values(data: dict[str, Any]) -> dict[str, str]:
    return {
        "email": _text(data, "email", 1000),
        "reason": _text(data, "reason", 50) or "manual",
        "note": _text(data, "note", 5000),
    }


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
        db: AsyncSession,
        q: str | None = None,
        reason: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        params = _params(q, reason)
        if request.htmx.target == "suppression-results" and not request.htmx.history_restore_request:
            context = await self._results(request, db, params, cursor)
            return Template("suppression/_results.html", context=context, headers=VARY)
        return await self._page(request, db, params, cursor)

    async def _results(
        self, request: HTMXRequest, db: AsyncSession, params: dict[str, str], cursor: str | None
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
        request: HTMXRequest,
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
            **await self._results(request, db, params or _params(None, None), cursor),
            "stats": stats,
            "total": sum(stats.values()),
            "values": values or {"reason": "manual"},
            "errors": errors or {},
            "bulk": bulk or {"reason": "manual"},
            "bulk_errors": bulk_errors or {},
            "report": report,
        }
        return Template("suppression/index.html", context=context, status_code=status_code, headers=VARY)

    @post("/", status_code=200)
    async def add(self, request: HTMXRequest, db: AsyncSession, data: Form) -> Response:
        values = _entry_values(data)
        try:
            entry = suppression.validate_entry(values)
            result = await suppression.add(
                db, entry["email"], entry["reason"], note=entry["note"], source="staff", created_by=request.user.name
            )
        except ValidationFailed as exc:
            return await self._page(request, db, values=values, errors=exc.errors, status_code=422)
        row = result.suppression
        if result.created:
            flash(request, f"{row.email} is suppressed ({row.reason}): no campaign will reach it.", "success")
        else:
            flash(
                request,
                f"{entry['email']} was suppressed already ({row.reason}, since "
                f"{row.created_at:%Y-%m-%d}); that entry was kept.",
                "warning",
            )
        return after_change(request, "/suppression")

    @post("/validate-email", status_code=200)
    async def validate_email(self, db: AsyncSession, data: Form) -> Template:
        """The message under the email field, checked as the user pauses typing or leaves it."""
        raw = _text(data, "email", 1000)
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
    async def bulk(self, request: HTMXRequest, db: AsyncSession, data: Form) -> Response:
        bulk = {
            "addresses": _text(data, "addresses"),
            "reason": _text(data, "reason", 50) or "manual",
            "note": _text(data, "note", 5000),
        }
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
    async def confirm_remove(self, db: AsyncSession, suppression_id: int) -> Template:
        return _remove_page(await suppression.get(db, suppression_id), "", {})

    @post("/{suppression_id:int}/remove", status_code=200)
    async def remove(self, request: HTMXRequest, db: AsyncSession, suppression_id: int, data: Form) -> Response:
        row = await suppression.get(db, suppression_id)
        why = _text(data, "reason", 5000)
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


def _remove_page(row: Any, why: str, errors: dict[str, str], status_code: int = 200) -> Template:
    return Template(
        "suppression/remove.html", context={"row": row, "why": why, "errors": errors}, status_code=status_code
    )
