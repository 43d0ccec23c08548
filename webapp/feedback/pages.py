"""Staff UI: Settings -> Bounces and complaints, the soft-bounce rule and the thresholds (admins only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.feedback.schemas import SOFT_BOUNCE_ACTIONS
from webapp.feedback.service import rates, rules

FIELDS = ["soft_bounce_limit", "soft_bounce_days", "soft_bounce_action"]


async def _page(db: AsyncSession, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "values": values,
        "errors": errors,
        "actions": list(SOFT_BOUNCE_ACTIONS.items()),
        "thresholds": rates.THRESHOLDS,
        "domains": await rates.by_domain(db),
    }
    return Template("feedback/bounce_rules.html", context=context, status_code=status_code)


class BounceRulesController(Controller):
    path = "/settings/bounces"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="bounce_rules")
    async def show(self, db: Db) -> Template:
        return await _page(db, asdict(await rules.load(db)), {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        typed = {name: first(form, name) for name in FIELDS}
        try:
            await rules.update(db, typed)
        except ValidationFailed as exc:
            return await _page(db, typed, exc.errors, status_code=422)
        flash(request, "Bounce rules saved.", "success")
        return after_change(request, "/settings/bounces")
