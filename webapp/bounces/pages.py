"""Staff UI: Settings → Bounce mailbox (admins only): the bounce address messages go out with, the
mailbox bounce and complaint mail arrives in, and a test of that mailbox with the form's values."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.bounces.schemas import PROTOCOLS, TLS_MODES
from webapp.bounces.service import checks, mailbox, polling
from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest

PATH = "/settings/bounce-mailbox"
TEXT_FIELDS = ["bounce_address", "protocol", "host", "port", "tls_mode", "username", "folder", "poll_minutes"]
FLAGS = ["delete_processed", "allow_private"]


async def _page(
    saved: mailbox.MailboxSettings,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    test: tuple[str, str] | None = None,  # (outcome: "success" | "error", message)
) -> Template:
    context = {
        "saved": saved,
        "values": values,
        "errors": errors,
        "test": test,
        "protocols": list(PROTOCOLS.items()),
        "tls_modes": list(TLS_MODES.items()),
        "last_poll": await polling.last_poll() if saved.polled else None,
    }
    return Template("bounces/settings.html", context=context, status_code=status_code)


async def _typed(request: StaffRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (shown back, never the password), and the data to load."""
    form = await read_form(request)
    typed: dict[str, Any] = {name: first(form, name) for name in TEXT_FIELDS} | {name: name in form for name in FLAGS}
    return typed, typed | {"password": first(form, "password")}


class BounceMailboxController(Controller):
    path = PATH
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="bounce_mailbox")
    async def show(self, db: Db) -> Template:
        saved = await mailbox.load(db)
        return await _page(saved, asdict(saved), {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        typed, data = await _typed(request)
        try:
            await mailbox.update(db, data)
        except ValidationFailed as exc:
            return await _page(await mailbox.load(db), typed, exc.errors, status_code=422)
        flash(request, "Bounce mailbox settings saved.", "success")
        return after_change(request, PATH)

    @post("/test")
    async def test(self, request: StaffRequest, db: Db) -> Template:
        """Connect with the form's values (not saved) and say what happened, next to the button."""
        typed, data = await _typed(request)
        saved = await mailbox.load(db)
        try:
            waiting = await checks.test_connection(db, data)
        except ValidationFailed as exc:
            return await _page(saved, typed, exc.errors, status_code=422)
        except checks.ConnectionFailed as exc:
            return await _page(saved, typed, {}, status_code=422, test=("error", f"Connection failed: {exc}"))
        plural = "message waits" if waiting == 1 else "messages wait"
        return await _page(saved, typed, {}, test=("success", f"Connected and signed in: {waiting} {plural}."))
