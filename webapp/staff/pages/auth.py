"""Sign in and out of the staff UI."""

from __future__ import annotations

from urllib.parse import urlparse

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from webapp.core.access import ANY_STAFF
from webapp.core.config import get_settings
from webapp.core.deps import Db, client_ip
from webapp.core.errors import TooManyAttempts, ValidationFailed
from webapp.core.forms import Form
from webapp.core.http import PublicRequest
from webapp.core.redis import get_redis
from webapp.staff.service import users


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an attacker's link must not turn sign-in into an open redirect."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


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
            status = 429 if isinstance(exc, TooManyAttempts) else 400
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
            return Template(
                "staff/auth/login.html",
                context={"next": next_url, "values": {"email": email}, "errors": {"form": exc.message}},
                status_code=status,
                headers=headers,
            )
        request.clear_session()  # a fresh session id on sign-in: no session fixation
        request.set_session(users.session_for(user))
        return Redirect(next_url, status_code=303)

    @post("/logout", opt=ANY_STAFF)
    async def logout(self, request: PublicRequest) -> Redirect:
        request.clear_session()
        request.set_session({})
        flash(request, "You are signed out.", "info")
        return Redirect("/login", status_code=303)
