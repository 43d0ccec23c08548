"""Staff UI: API keys (admins only). A key is shown once, when it is created; only its digest is kept."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ADMIN_ONLY, Role
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.staff.service import api_keys

ROLE_OPTIONS = [(Role.EDITOR.value, "editor: read and write"), (Role.VIEWER.value, "viewer: read only")]


async def _index(db: AsyncSession, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {"keys": await api_keys.list_keys(db), "values": values, "errors": errors, "roles": ROLE_OPTIONS}
    return Template("staff/api_keys/index.html", context=context, status_code=status_code)


class ApiKeysController(Controller):
    path = "/settings/api-keys"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="api_keys")
    async def index(self, db: Db) -> Template:
        return await _index(db, {"role": Role.EDITOR.value}, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> Template:
        form = await read_form(request)
        data = {"name": first(form, "name"), "role": first(form, "role")}
        if not data["role"]:
            del data["role"]  # an unchosen role means the default, editor
        try:
            key, plain = await api_keys.create_key(db, data, created_by_id=request.user.id)
        except ValidationFailed as exc:
            return await _index(db, data, field_errors(exc), status_code=422)
        # Rendered, not redirected: the key must not pass through the session (flash) or a URL.
        return Template(
            "staff/api_keys/created.html",
            context={"key": key, "plain": plain},
            headers={"Cache-Control": "no-store"},
            status_code=201,
        )

    @get("/{key_id:int}/revoke")
    async def confirm_revoke(self, db: Db, key_id: FromPath[int]) -> Template:
        return Template("staff/api_keys/revoke.html", context={"key": await api_keys.get_key(db, key_id)})

    @post("/{key_id:int}/revoke")
    async def revoke(self, request: StaffRequest, db: Db, key_id: FromPath[int]) -> AnyResponse:
        await api_keys.revoke_key(db, key_id)
        flash(request, "API key revoked. Clients using it now get 401.", "success")
        return after_change(request, "/settings/api-keys")
