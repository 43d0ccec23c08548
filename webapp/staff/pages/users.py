"""Staff UI: staff accounts (admins only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY, Role
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.staff.models import User
from webapp.staff.pages.account import keep_this_session
from webapp.staff.schemas import MIN_PASSWORD_LENGTH
from webapp.staff.service import sign_in_policy, two_step, users


def _form(user: User | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "account": user,
        "values": values,
        "errors": errors,
        "roles": [(role.value, role.value) for role in Role],
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return Template("staff/users/form.html", context=context, status_code=status_code)


def _account(form: FormFields, *, new: bool) -> dict[str, Any]:
    """An account (UserCreate's or UserUpdate's shape) from the form. The email of an existing
    account is not editable; an unticked "active" box is not sent and means inactive; an empty
    password keeps the current one."""
    data: dict[str, Any] = {name: first(form, name) for name in ("name", "role", "password")}
    if new:
        data["email"] = first(form, "email")
    else:
        data["is_active"] = "is_active" in form
        if not data["password"]:
            del data["password"]
    return data


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to show again: never the password."""
    return {name: value for name, value in data.items() if name != "password"}


class UsersController(Controller):
    path = "/settings/users"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="users")
    async def index(self, db: Db) -> Template:
        context = {"users": await users.list_users(db), "two_step_required": await sign_in_policy.two_step_required(db)}
        return Template("staff/users/index.html", context=context)

    @post("/two-step-required")
    async def require_two_step(self, request: StaffRequest, db: Db) -> AnyResponse:
        required = "required" in await read_form(request)
        await sign_in_policy.require_two_step(db, required)
        if required:
            message = "Two-step sign-in is required: whoever has not set it up is asked to at their next page."
        else:
            message = "Two-step sign-in is up to each person again."
        flash(request, message, "success")
        return after_change(request, "/settings/users")

    @get("/new")
    async def new(self) -> Template:
        return _form(None, {"role": Role.EDITOR.value, "is_active": True}, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        data = _account(await read_form(request), new=True)
        try:
            user = await users.create_user(db, data)
        except (ValidationFailed, Conflict) as exc:
            return _form(None, _shown(data), field_errors(exc), status_code=422)
        flash(request, f"Account for {user.email} created. Share the password with them privately.", "success")
        return after_change(request, "/settings/users")

    @get("/{user_id:int}/edit")
    async def edit(self, db: Db, user_id: FromPath[int]) -> Template:
        user = await users.get_user(db, user_id)
        return _form(user, {"name": user.name, "role": user.role, "is_active": user.is_active}, {})

    @post("/{user_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, user_id: FromPath[int]) -> AnyResponse:
        user = await users.get_user(db, user_id)
        data = _account(await read_form(request), new=False)
        try:
            await users.update_user(db, user_id, data, acting_user_id=request.user.id)
        except (ValidationFailed, Conflict) as exc:
            return _form(user, _shown(data), field_errors(exc), status_code=422)
        if user_id == request.user.id:  # a new password of one's own ends the other sessions, not this one
            await keep_this_session(request, user)
        flash(request, f"Account {user.email} saved.", "success")
        return after_change(request, "/settings/users")

    @post("/{user_id:int}/two-step/off")
    async def two_step_off(self, request: StaffRequest, db: Db, user_id: FromPath[int]) -> AnyResponse:
        """For someone who lost both their phone and their recovery codes."""
        user = await two_step.turn_off(db, user_id)
        then = (
            "they set it up again at their next page, as it is required"
            if await sign_in_policy.two_step_required(db)
            else "their password alone signs them in"
        )
        flash(request, f"Two-step sign-in is off for {user.email}: {then}.", "success")
        return after_change(request, f"/settings/users/{user_id}/edit")
