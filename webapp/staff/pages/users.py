"""Staff UI: staff accounts (admins only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ADMIN_ONLY, Role
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import Form, after_change, field_errors
from webapp.staff.models import User
from webapp.staff.service import users
from webapp.staff.service.passwords import MIN_PASSWORD_LENGTH


def _form(user: User | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "account": user,
        "values": values,
        "errors": errors,
        "roles": list(Role),
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return Template("staff/users/form.html", context=context, status_code=status_code)


class UsersController(Controller):
    path = "/settings/users"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="users")
    async def index(self, db: AsyncSession) -> Template:
        return Template("staff/users/index.html", context={"users": await users.list_users(db)})

    @get("/new")
    async def new(self) -> Template:
        return _form(None, {"role": Role.EDITOR.value, "is_active": True}, {})

    @post("/")
    async def create(self, request: Request, db: AsyncSession, data: Form) -> Response:
        values = {name: data.get(name, "") for name in ("email", "name", "role", "password")}
        try:
            user = await users.create_user(db, values)
        except (ValidationFailed, Conflict) as exc:
            return _form(None, {**values, "password": ""}, field_errors(exc), status_code=422)
        flash(request, f"Account for {user.email} created. Share the password with them privately.", "success")
        return after_change(request, "/settings/users")

    @get("/{user_id:int}/edit")
    async def edit(self, db: AsyncSession, user_id: int) -> Template:
        user = await users.get_user(db, user_id)
        return _form(user, {"name": user.name, "role": user.role, "is_active": user.is_active}, {})

    @post("/{user_id:int}/edit")
    async def update(self, request: Request, db: AsyncSession, user_id: int, data: Form) -> Response:
        user = await users.get_user(db, user_id)
        values = {
            "name": data.get("name", ""),
            "role": data.get("role", ""),
            "is_active": "true" if data.get("is_active") else "false",  # an unticked box is not sent
            "password": data.get("password", ""),
        }
        try:
            await users.update_user(db, user_id, values, acting_user_id=request.user.id)
        except (ValidationFailed, Conflict) as exc:
            return _form(
                user,
                {**values, "is_active": values["is_active"] == "true", "password": ""},
                field_errors(exc),
                status_code=422,
            )
        flash(request, f"Account {user.email} saved.", "success")
        return after_change(request, "/settings/users")
