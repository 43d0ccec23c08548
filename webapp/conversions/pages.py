"""Staff UI: Settings → Conversions (admins only): the attribution window, and the key a shop's
server signs conversion pixel URLs with, shown with an example, and replaced on demand."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.conversions.service import settings
from webapp.core.access import ADMIN_ONLY
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest

URL = "/settings/conversions"


async def _page(db: AsyncSession, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "values": values,
        "errors": errors,
        "key": await settings.snippet_key(db),
        "pixel_url": get_settings().server.public_url + "/u/conversion.gif",
    }
    return Template("conversions/settings.html", context=context, status_code=status_code)


class ConversionSettingsController(Controller):
    path = URL
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="conversion_settings")
    async def show(self, db: Db) -> Template:
        return await _page(db, {"window_days": await settings.window_days(db)}, {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        typed = {"window_days": first(await read_form(request), "window_days")}
        try:
            await settings.update(db, typed)
        except ValidationFailed as exc:
            return await _page(db, typed, exc.errors, status_code=422)
        flash(request, "Conversion settings saved.", "success")
        return after_change(request, URL)

    @post("/key")
    async def replace_key(self, request: StaffRequest, db: Db) -> AnyResponse:
        await settings.replace_snippet_key(db)
        flash(request, "A new signing key is in use: URLs signed with the old one are refused.", "success")
        return after_change(request, URL)
