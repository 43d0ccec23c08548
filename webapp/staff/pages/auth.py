"""Sign in and out of the staff UI."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.audit import service as audit
from webapp.audit.service import Action
from webapp.core.access import ANY_STAFF, WHILE_TWO_STEP_DUE
from webapp.core.config import get_settings
from webapp.core.deps import Db, client_ip
from webapp.core.errors import NotFound, TooManyAttempts, ValidationFailed
from webapp.core.forms import Form
from webapp.core.http import PublicRequest
from webapp.core.redis import get_redis
from webapp.core.sessions import renew_session_id
from webapp.staff.models import User
from webapp.staff.service import signed_in, two_step, users


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an attacker's link must not turn sign-in into an open redirect."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


PENDING = "two_step"  # a sign-in whose password was right, waiting for its code
CODE_WAIT_SECONDS = 300
# A browser whose owner asked not to be asked for a code on it again for a while (two_step.remembers).
REMEMBERED = "mailroom_two_step_browser"


async def _pending(request: PublicRequest, db: AsyncSession) -> tuple[User, str] | None:
    """(account, where to go next) of a sign-in waiting for its code, unless it waited too long."""
    pending = request.session.get(PENDING) if request.session else None
    if not isinstance(pending, dict) or not time.time() < float(pending.get("until") or 0):
        return None
    try:
        user = await two_step.signing_in(db, pending.get("user_id"))
    except NotFound:
        return None
    return user, _safe_next(pending.get("next"))


def _refused_status(exc: ValidationFailed | TooManyAttempts) -> int:
    """A sign-in step refused: 400, or 429 once there were too many tries."""
    return 429 if isinstance(exc, TooManyAttempts) else 400


def _refused(template: str, context: dict[str, Any], exc: ValidationFailed | TooManyAttempts) -> Template:
    """The step's page again, saying why (with Retry-After once there were too many tries)."""
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    return Template(template, context=context, status_code=_refused_status(exc), headers=headers)


async def _signed_in(request: PublicRequest, db: AsyncSession, user: User, next_url: str) -> Redirect:
    session = users.session_for(user)
    agent, max_age = request.headers.get("user-agent", ""), get_settings().security.session_max_age
    handle = await signed_in.open_session(
        get_redis(), user.id, session["password_stamp"], client_ip(request), agent, max_age
    )
    request.set_session({**session, signed_in.HANDLE: handle})
    who = audit.person(users.principal_name(user), user.email)
    await audit.record_access(db, Action.SIGNED_IN, who, client_ip(request), user_id=user.id, role=user.role)
    return Redirect(next_url, status_code=303)


class AuthController(Controller):
    path = "/"

    @get("/login", name="login")
    async def login_form(self, next: FromQuery[str | None] = None) -> Template:
        return Template("staff/auth/login.html", context={"next": _safe_next(next), "values": {}, "errors": {}})

    @post("/login")
    async def login(self, request: PublicRequest, db: Db, data: Form) -> Template | Redirect:
        email = str(data.get("email") or "")
        next_url = _safe_next(data.get("next"))
        try:
            user = await users.authenticate(
                db, get_redis(), get_settings().security, email, str(data.get("password") or ""), client_ip(request)
            )
        except (ValidationFailed, TooManyAttempts) as exc:
            why = " ".join(exc.errors.values()) if isinstance(exc, ValidationFailed) else exc.message
            context = {"next": next_url, "values": {"email": email}, "errors": {"form": why}}
            refused = _refused("staff/auth/login.html", context, exc)
            await audit.record_access(
                db,
                Action.SIGN_IN_REFUSED,
                email.strip() or "(no address)",
                client_ip(request),
                user_id=await users.id_by_email(db, email),
                status=_refused_status(exc),
            )
            return refused
        request.clear_session()
        renew_session_id(request)  # no session fixation: a session id known before sign-in is not signed in
        if user.two_step and not two_step.remembers(user, request.cookies.get(REMEMBERED)):  # the code too
            until = time.time() + CODE_WAIT_SECONDS
            request.set_session({PENDING: {"user_id": user.id, "until": until, "next": next_url}})
            return Redirect("/login/code", status_code=303)
        return await _signed_in(request, db, user, next_url)

    @get("/login/code", name="two-step-code")
    async def code_form(self, request: PublicRequest, db: Db) -> Template | Redirect:
        if await _pending(request, db) is None:
            return Redirect("/login", status_code=303)
        return Template("staff/auth/code.html", context={"errors": {}, "remember_days": two_step.REMEMBER_DAYS})

    @post("/login/code")
    async def code(self, request: PublicRequest, db: Db, data: Form) -> Template | Redirect:
        pending = await _pending(request, db)
        if pending is None:
            flash(request, "Sign in again: the code was not typed within five minutes.", "info")
            return Redirect("/login", status_code=303)
        waiting, next_url = pending
        try:
            user = await two_step.check_code(
                db, get_redis(), get_settings().security, waiting.id, str(data.get("code") or ""), client_ip(request)
            )
        except (ValidationFailed, TooManyAttempts) as exc:
            said = exc.errors.get("code", exc.message) if isinstance(exc, ValidationFailed) else exc.message
            context = {
                "errors": {"code": said},
                "remember_days": two_step.REMEMBER_DAYS,
                "remember": bool(data.get("remember")),
            }
            refused = _refused("staff/auth/code.html", context, exc)
            who = audit.person(users.principal_name(waiting), waiting.email)
            await audit.record_access(
                db, Action.CODE_REFUSED, who, client_ip(request), user_id=waiting.id, status=_refused_status(exc)
            )
            return refused
        request.clear_session()
        renew_session_id(request)
        signed_in = await _signed_in(request, db, user, next_url)
        if data.get("remember"):
            signed_in.set_cookie(
                REMEMBERED,
                two_step.remembered_browser(user),
                max_age=two_step.REMEMBER_DAYS * 86400,
                path="/login",
                secure=get_settings().security.secure_cookies,
                httponly=True,
                samesite="strict",
            )
        return signed_in

    @post("/logout", opt=ANY_STAFF | WHILE_TWO_STEP_DUE)
    async def logout(self, request: PublicRequest) -> Redirect:
        if isinstance(handle := request.session.get(signed_in.HANDLE), str):
            await signed_in.end(get_redis(), request.session["user_id"], handle)
        request.clear_session()
        renew_session_id(request)
        request.set_session({})
        flash(request, "You are signed out.", "info")
        return Redirect("/login", status_code=303)
