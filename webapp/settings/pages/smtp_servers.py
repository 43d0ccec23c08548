"""Staff UI: the SMTP servers campaigns are sent through (admins only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.routing.service import rules as routing_rules
from webapp.settings.models import SmtpServer
from webapp.settings.schemas import TLS_MODES
from webapp.settings.service import smtp_servers

FIELDS = [
    "name",
    "host",
    "port",
    "tls_mode",
    "username",
    "rate_per_second",
    "rate_per_hour",
    "rate_per_day",
    "max_connections",
    "priority",
]
NEW_SERVER = {
    "port": 587,
    "tls_mode": "starttls",
    "rate_per_second": 0,
    "rate_per_hour": 0,
    "rate_per_day": 0,
    "max_connections": 5,
    "priority": 0,
    "is_active": True,
}


def _form(
    server: SmtpServer | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    context = {"server": server, "values": values, "errors": errors, "tls_modes": list(TLS_MODES.items())}
    return Template("settings/smtp/form.html", context=context, status_code=status_code)


def _server(form: FormFields) -> dict[str, Any]:
    """A server (SmtpServerInput's shape) from the form: a box is sent only when ticked."""
    ticked = {name: name in form for name in ("is_active", "allow_private")}
    return {name: first(form, name) for name in (*FIELDS, "password")} | ticked


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """What was typed, to show again: never the password."""
    return {name: value for name, value in data.items() if name != "password"}


class SmtpServersController(Controller):
    path = "/settings/smtp"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="smtp_servers")
    async def index(self, db: Db) -> Template:
        return Template("settings/smtp/index.html", context={"servers": await smtp_servers.list_servers(db)})

    @get("/new")
    async def new(self) -> Template:
        return _form(None, NEW_SERVER, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        data = _server(await read_form(request))
        try:
            server = await smtp_servers.create_server(db, data)
        except ValidationFailed as exc:
            return _form(None, _shown(data), field_errors(exc), status_code=422)
        flash(request, f"SMTP server '{server.name}' added. Use “Test connection” to check it.", "success")
        return after_change(request, "/settings/smtp")

    @get("/{server_id:int}/edit")
    async def edit(self, db: Db, server_id: FromPath[int]) -> Template:
        server = await smtp_servers.get_server(db, server_id)
        values = {name: getattr(server, name) for name in (*FIELDS, "is_active", "allow_private")}
        return _form(server, values, {})

    @post("/{server_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, server_id: FromPath[int]) -> AnyResponse:
        server = await smtp_servers.get_server(db, server_id)
        data = _server(await read_form(request))
        try:
            await smtp_servers.update_server(db, server_id, data)
        except ValidationFailed as exc:
            return _form(server, _shown(data), field_errors(exc), status_code=422)
        flash(request, f"SMTP server '{server.name}' saved.", "success")
        return after_change(request, "/settings/smtp")

    @post("/{server_id:int}/test")
    async def test(self, request: StaffRequest, db: Db, server_id: FromPath[int]) -> AnyResponse:
        """HTMX gets the server table with the result above it; a plain browser gets it as a flash."""
        server = await smtp_servers.get_server(db, server_id)
        result = await smtp_servers.test_connection(server)
        await smtp_servers.record_test(db, server, result)
        if request.headers.get("hx-request"):
            servers = await smtp_servers.list_servers(db)
            return Template(
                "settings/smtp/_servers.html", context={"servers": servers, "tested": server, "result": result}
            )
        flash(request, f"{server.name}: {result.message}", "success" if result.ok else "error")
        return after_change(request, "/settings/smtp")

    @get("/{server_id:int}/delete")
    async def confirm_delete(self, db: Db, server_id: FromPath[int]) -> Template:
        server = await smtp_servers.get_server(db, server_id)
        in_rules = await routing_rules.rules_through(db, f"smtp:{server.id}")
        return Template("settings/smtp/delete.html", context={"server": server, "rules": in_rules})

    @post("/{server_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, server_id: FromPath[int]) -> AnyResponse:
        server = await smtp_servers.delete_server(db, server_id)
        flash(request, f"SMTP server '{server.name}' deleted.", "success")
        return after_change(request, "/settings/smtp")
