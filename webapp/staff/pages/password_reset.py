"""A forgotten password, from the sign-in page: ask for a link by email, then choose a new password
with it. Public (under /login, like sign-in), with CSRF on both forms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from webapp.audit import service as audit
from webapp.audit.service import Action
from webapp.core.deps import Db, client_ip
from webapp.core.errors import NotFound, TooManyAttempts, ValidationFailed
from webapp.core.forms import first, read_form
from webapp.core.http import PublicRequest
from webapp.core.redis import get_redis
from webapp.staff.actors import enqueue_password_reset
from webapp.staff.schemas import MIN_PASSWORD_LENGTH
from webapp.staff.service import login_throttle, password_reset, users
from webapp.staff.service.password_reset import RESET_LINK_SECONDS


def _ask(
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    sent: bool = False,
) -> Template:
    context = {"values": values, "errors": errors, "minutes": RESET_LINK_SECONDS // 60, "sent": sent}
    return Template("staff/auth/forgot.html", context=context, status_code=status_code, headers=headers)


def _choose(token: str, errors: dict[str, str], status_code: int = 200) -> Template:
    context = {"token": token, "errors": errors, "min_password": MIN_PASSWORD_LENGTH}
    return Template("staff/auth/reset.html", context=context, status_code=status_code)


class PasswordResetController(Controller):
    path = "/login"

    @get("/forgot", name="forgot-password")
    async def ask_form(self) -> Template:
        return _ask({}, {})

    @post("/forgot")
    async def ask(self, request: PublicRequest, db: Db) -> Template:
        email = first(await read_form(request), "email")
        try:
            user = await password_reset.account_to_mail(db, get_redis(), email, client_ip(request))
        except ValidationFailed as exc:
            return _ask({"email": email}, exc.errors, status_code=422)
        except TooManyAttempts as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            return _ask({"email": email}, {"form": exc.message}, status_code=429, headers=retry)
        if user is not None:
            await enqueue_password_reset(user.id)
        return _ask({"email": email}, {}, sent=True)

    @get("/reset/{token:str}", name="reset-password")
    async def choose_form(self, db: Db, token: FromPath[str]) -> Template:
        try:
            await password_reset.account_of(db, token)
        except NotFound as exc:
            return _ask({}, {"form": exc.message}, status_code=404)
        return _choose(token, {})

    @post("/reset/{token:str}")
    async def choose(self, request: PublicRequest, db: Db, token: FromPath[str]) -> Template | Redirect:
        form = await read_form(request)
        try:
            user = await password_reset.reset(db, token, first(form, "password"), first(form, "password_confirm"))
        except NotFound as exc:
            return _ask({}, {"form": exc.message}, status_code=404)
        except ValidationFailed as exc:
            return _choose(token, exc.errors, status_code=422)
        await login_throttle.record_success(get_redis(), user.email, client_ip(request))  # a lockout ends with it
        who = audit.person(users.principal_name(user), user.email)
        await audit.record_access(db, Action.PASSWORD_RESET, who, client_ip(request), user_id=user.id, role=user.role)
        flash(request, "Your password is changed. Sign in with it.", "success")
        return Redirect("/login", status_code=303)
