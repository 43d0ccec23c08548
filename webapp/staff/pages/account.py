"""Staff UI: one's own account (every role): name, password, two-step sign-in and where one is signed in."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ANY_STAFF, WHILE_TWO_STEP_DUE
from webapp.core.config import get_settings
from webapp.core.deps import Db, client_ip
from webapp.core.errors import TooManyAttempts, ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.redis import get_redis
from webapp.staff.models import User
from webapp.staff.schemas import MIN_PASSWORD_LENGTH
from webapp.staff.service import account, signed_in, two_step, users

PATH = "/account"
TWO_STEP_SETUP = f"{PATH}/two-step"
SETUP = "two_step_setup"  # the secret being set up, in the session until the app's code confirms it


async def _page(
    request: StaffRequest,
    user: User,
    name: str,
    errors: dict[str, str],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """Passwords are never shown back: a refused change asks for them again."""
    sessions = await signed_in.listed(
        get_redis(), user.id, users.password_stamp(user), _handle(request), get_settings().security.session_max_age
    )
    context = {
        "account": user,
        "values": {"name": name},
        "errors": errors,
        "min_password": MIN_PASSWORD_LENGTH,
        "sessions": sessions,
    }
    return Template("staff/account.html", context=context, status_code=status_code, headers=headers)


def _handle(request: StaffRequest) -> str | None:
    handle = request.session.get(signed_in.HANDLE)
    return handle if isinstance(handle, str) else None


async def keep_this_session(request: StaffRequest, user: User) -> None:
    """After a change of the account's stamp, which ends every other session: this one goes on, listed."""
    request.session.update(users.session_for(user))
    if handle := _handle(request):
        await signed_in.restamp(get_redis(), user.id, handle, users.password_stamp(user))


async def _refused(
    request: StaffRequest, db: AsyncSession, exc: ValidationFailed | TooManyAttempts, field: str
) -> Template:
    """The page again with why: the current password's message next to `field` (the form's own
    password box), 429 with Retry-After once there were too many wrong ones."""
    user = await users.get_user(db, request.user.id)
    if isinstance(exc, TooManyAttempts):
        retry = {"Retry-After": str(exc.retry_after)}
        return await _page(request, user, user.name, {field: exc.message}, status_code=429, headers=retry)
    errors = {field if name == "current_password" else name: message for name, message in exc.errors.items()}
    return await _page(request, user, user.name, errors, status_code=422)


def _setup(email: str, secret: str, errors: dict[str, str], status_code: int = 200) -> Template:
    context = {
        "qr": two_step.qr_svg(two_step.setup_uri(secret, email)),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "errors": errors,
    }
    return Template("staff/two_step_setup.html", context=context, status_code=status_code)


class AccountController(Controller):
    path = PATH
    opt = ANY_STAFF  # one's own account, whatever one's role

    @get("/", name="account")
    async def show(self, request: StaffRequest, db: Db) -> Template:
        user = await users.get_user(db, request.user.id)
        return await _page(request, user, user.name, {})

    @post("/")
    async def rename(self, request: StaffRequest, db: Db) -> AnyResponse:
        name = first(await read_form(request), "name")
        try:
            await account.rename(db, request.user.id, name)
        except ValidationFailed as exc:
            return await _page(request, await users.get_user(db, request.user.id), name, exc.errors, status_code=422)
        flash(request, "Your name is saved.", "success")
        return after_change(request, PATH)

    @post("/password")
    async def change_password(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        passwords = (first(form, "current_password"), first(form, "password"), first(form, "password_confirm"))
        redis, security = get_redis(), get_settings().security
        try:
            user = await account.change_password(db, redis, security, request.user.id, passwords, client_ip(request))
        except (ValidationFailed, TooManyAttempts) as exc:
            return await _refused(request, db, exc, "current_password")
        await keep_this_session(request, user)
        flash(request, "Your password is changed. Any other session signed in as you is signed out.", "success")
        return after_change(request, PATH)

    @post("/sign-out-elsewhere")
    async def sign_out_elsewhere(self, request: StaffRequest, db: Db) -> AnyResponse:
        user = await account.sign_out_elsewhere(db, request.user.id)
        await keep_this_session(request, user)
        flash(
            request,
            "Every other session signed in as you is signed out, and every browser remembered for two-step "
            "sign-in will ask for a code again.",
            "success",
        )
        return after_change(request, PATH)

    @post("/sessions/{handle:str}/end")
    async def end_session(self, request: StaffRequest, handle: FromPath[str]) -> AnyResponse:
        if handle == _handle(request):
            raise ValidationFailed({"handle": "This is the session you are using: sign out from the menu instead."})
        if await signed_in.end(get_redis(), request.user.id, handle):
            flash(request, "That session is signed out.", "success")
        else:
            flash(request, "That session had already ended.", "info")
        return after_change(request, f"{PATH}#sessions")

    @get("/two-step", name="two-step-setup", opt=WHILE_TWO_STEP_DUE)
    async def two_step_setup(self, request: StaffRequest, db: Db) -> AnyResponse:
        user = await users.get_user(db, request.user.id)
        if user.two_step:
            return Redirect(PATH, status_code=303)
        secret = request.session.get(SETUP) or two_step.new_secret()
        request.session[SETUP] = secret
        return _setup(user.email, secret, {})

    @post("/two-step", opt=WHILE_TWO_STEP_DUE)
    async def two_step_on(self, request: StaffRequest, db: Db) -> AnyResponse:
        secret = request.session.get(SETUP)
        if not isinstance(secret, str):
            return Redirect(TWO_STEP_SETUP, status_code=303)
        code = first(await read_form(request), "code")
        try:
            codes = await two_step.turn_on(db, request.user.id, secret, code)
        except ValidationFailed as exc:
            return _setup((await users.get_user(db, request.user.id)).email, secret, exc.errors, status_code=422)
        request.session.pop(SETUP, None)
        return Template("staff/two_step_codes.html", context={"codes": codes})

    @post("/two-step/off")
    async def two_step_off(self, request: StaffRequest, db: Db) -> AnyResponse:
        password = first(await read_form(request), "off_password")
        redis, security = get_redis(), get_settings().security
        try:
            await account.confirmed(db, redis, security, request.user.id, password, client_ip(request))
        except (ValidationFailed, TooManyAttempts) as exc:
            return await _refused(request, db, exc, "off_password")
        await two_step.turn_off(db, request.user.id)
        flash(request, "Two-step sign-in is off: your password alone signs you in.", "success")
        return after_change(request, PATH)
