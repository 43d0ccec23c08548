"""Staff UI: the API providers campaigns are sent through beside the SMTP servers (admins only).
A new provider's kind is chosen first (a link per kind), so its form shows that kind's fields
without any script; the kind stays what it is once saved."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.delivery.mailer import named
from webapp.delivery.smtp_config import provider_target
from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.kinds import check
from webapp.providers import service as providers
from webapp.providers.models import Provider
from webapp.providers.schemas import KIND_NAMES, SECRETS, SETTINGS
from webapp.routing.service import rules as routing_rules

COMMON = ["name", "batch_size", "rate_per_second", "rate_per_hour", "rate_per_day", "max_connections", "priority"]
# A new provider's numbers: the API's batch limit where it batches, a few requests at once.
NEW_PROVIDER = {
    "batch_size": 50,
    "rate_per_second": 0,
    "rate_per_hour": 0,
    "rate_per_day": 0,
    "max_connections": 4,
    "priority": 0,
    "is_active": True,
}


def _form(
    kind: str, provider: Provider | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    context = {
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "provider": provider,
        "values": values,
        "errors": errors,
        "settings_fields": SETTINGS[kind],
        "secret_fields": SECRETS[kind],
        # Secrets typed into a form that is refused are not sent back: their fields say so.
        "retype": [name for name in SECRETS[kind] if errors and values.get(f"{name}_typed")],
    }
    return Template("providers/form.html", context=context, status_code=status_code)


def _provider(form: FormFields, kind: str) -> dict[str, Any]:
    """A provider (ProviderInput's shape) from the form: a checkbox is sent only when ticked."""
    names = (*COMMON, *SETTINGS[kind], *SECRETS[kind])
    ticked = {name: name in form for name in ("is_active", "allow_private")}
    return {name: first(form, name) for name in names} | {"kind": kind} | ticked


def _shown(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """What was typed, to show again: never a secret, only whether one was typed (`<name>_typed`)."""
    shown = {name: value for name, value in data.items() if name not in SECRETS[kind]}
    return shown | {f"{name}_typed": bool(data.get(name)) for name in SECRETS[kind]}


def _kind(kind: str) -> str:
    if kind not in KIND_NAMES:
        raise NotFound("Choose one of the services offered on the providers page.")
    return kind


class ProvidersController(Controller):
    path = "/settings/providers"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="providers")
    async def index(self, db: Db) -> Template:
        context = {
            "providers": await providers.list_providers(db),
            "kinds": list(KIND_NAMES.items()),
            "kind_names": KIND_NAMES,
        }
        return Template("providers/index.html", context=context)

    @get("/new/{kind:str}")
    async def new(self, kind: FromPath[str]) -> Template:
        return _form(_kind(kind), None, NEW_PROVIDER, {})

    @post("/new/{kind:str}")
    async def create(self, request: StaffRequest, db: Db, kind: FromPath[str]) -> AnyResponse:
        data = _provider(await read_form(request), _kind(kind))
        try:
            provider = await providers.create_provider(db, data)
        except ValidationFailed as exc:
            return _form(kind, None, _shown(data, kind), field_errors(exc), status_code=422)
        flash(request, f"Provider '{provider.name}' added. Use “Test” to check its credentials.", "success")
        return after_change(request, "/settings/providers")

    @get("/{provider_id:int}/edit")
    async def edit(self, db: Db, provider_id: FromPath[int]) -> Template:
        provider = await providers.get_provider(db, provider_id)
        values = {name: getattr(provider, name) for name in COMMON} | dict(provider.settings)
        return _form(provider.kind, provider, values | {"is_active": provider.is_active}, {})

    @post("/{provider_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, provider_id: FromPath[int]) -> AnyResponse:
        provider = await providers.get_provider(db, provider_id)
        data = _provider(await read_form(request), provider.kind)
        try:
            await providers.update_provider(db, provider_id, data)
        except ValidationFailed as exc:
            return _form(provider.kind, provider, _shown(data, provider.kind), field_errors(exc), status_code=422)
        flash(request, f"Provider '{provider.name}' saved.", "success")
        return after_change(request, "/settings/providers")

    @post("/{provider_id:int}/test")
    async def test(self, request: StaffRequest, db: Db, provider_id: FromPath[int]) -> AnyResponse:
        """An authenticated call to the provider's API that sends nothing. HTMX gets the provider
        table with the result above it; a plain browser gets it as a flash."""
        provider = await providers.get_provider(db, provider_id)
        try:
            ok, message = True, await check(provider_target(provider))
        except ServerDown as exc:
            ok, message = False, str(exc)
        await providers.record_test(db, provider, ok, message)
        if request.headers.get("hx-request"):
            context = {
                "providers": await providers.list_providers(db),
                "kind_names": KIND_NAMES,
                "tested": provider,
                "ok": ok,
                "message": message,
            }
            return Template("providers/_providers.html", context=context)
        flash(request, named(provider.name, message), "success" if ok else "error")
        return after_change(request, "/settings/providers")

    @get("/{provider_id:int}/delete")
    async def confirm_delete(self, db: Db, provider_id: FromPath[int]) -> Template:
        provider = await providers.get_provider(db, provider_id)
        in_rules = await routing_rules.rules_through(db, f"provider:{provider.id}")
        return Template("providers/delete.html", context={"provider": provider, "rules": in_rules})

    @post("/{provider_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, provider_id: FromPath[int]) -> AnyResponse:
        provider = await providers.delete_provider(db, provider_id)
        flash(request, f"Provider '{provider.name}' deleted.", "success")
        return after_change(request, "/settings/providers")
