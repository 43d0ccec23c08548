"""Staff UI: Settings → Webhooks (admins only): endpoints, their delivery log and replays. A
secret is shown when the endpoint is created, and again only to an admin who asks for it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.webhooks.models import WebhookDelivery, WebhookEndpoint
from webapp.webhooks.schemas import EVENT_TYPES
from webapp.webhooks.service import endpoints

NEW_ENDPOINT: dict[str, Any] = {"url": "", "description": "", "event_types": [], "is_active": True}
NO_STORE = {"Cache-Control": "no-store"}


def _form(
    endpoint: WebhookEndpoint | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    context = {"endpoint": endpoint, "values": values, "errors": errors, "event_types": EVENT_TYPES}
    return Template("webhooks/form.html", context=context, status_code=status_code)


def _endpoint(form: FormFields) -> dict[str, Any]:
    """An endpoint (WebhookEndpointInput's shape) from the form: boxes are sent only when ticked."""
    return {
        "url": first(form, "url"),
        "description": first(form, "description"),
        "event_types": form.get("event_types", []),
        "is_active": "is_active" in form,
        "allow_private": "allow_private" in form,
    }


def _secret_page(endpoint: WebhookEndpoint, secret: str, *, created: bool, rotated: bool = False) -> Template:
    # Rendered, not redirected: the secret must not pass through the session (flash) or a URL.
    context = {"endpoint": endpoint, "secret": secret, "created": created, "rotated": rotated}
    return Template(
        "webhooks/secret.html",
        context=context | {"previous_until": endpoints.previous_secret_until(endpoint)},
        headers=NO_STORE,
        status_code=201 if created else 200,
    )


def _endpoint_page(
    endpoint: WebhookEndpoint, deliveries: list[WebhookDelivery], errors: dict[str, str], status_code: int = 200
) -> Template:
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "errors": errors,
        "overlaps": endpoints.OVERLAPS,
        "previous_until": endpoints.previous_secret_until(endpoint),
    }
    return Template("webhooks/endpoint.html", context=context, status_code=status_code)


class WebhooksController(Controller):
    path = "/settings/webhooks"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="webhooks")
    async def index(self, db: Db) -> Template:
        return Template("webhooks/index.html", context={"endpoints": await endpoints.list_endpoints(db)})

    @get("/new")
    async def new(self) -> Template:
        return _form(None, NEW_ENDPOINT, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        data = _endpoint(await read_form(request))
        try:
            endpoint, secret = await endpoints.create_endpoint(db, data)
        except ValidationFailed as exc:
            return _form(None, data, field_errors(exc), status_code=422)
        return _secret_page(endpoint, secret, created=True)

    @get("/{endpoint_id:int}")
    async def show(self, db: Db, endpoint_id: FromPath[int]) -> Template:
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        return _endpoint_page(endpoint, await endpoints.log(db, endpoint_id), {})

    @post("/{endpoint_id:int}/secret")
    async def reveal_secret(self, db: Db, endpoint_id: FromPath[int]) -> Template:
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        return _secret_page(endpoint, endpoints.secret_of(endpoint), created=False)

    @post("/{endpoint_id:int}/secret/rotate")
    async def rotate_secret(self, request: StaffRequest, db: Db, endpoint_id: FromPath[int]) -> Template:
        overlap = first(await read_form(request), "overlap")
        try:
            endpoint, secret = await endpoints.rotate_secret(db, endpoint_id, overlap)
        except ValidationFailed as exc:
            endpoint = await endpoints.get_endpoint(db, endpoint_id)
            return _endpoint_page(endpoint, await endpoints.log(db, endpoint_id), field_errors(exc), 422)
        return _secret_page(endpoint, secret, created=False, rotated=True)

    @get("/{endpoint_id:int}/edit")
    async def edit(self, db: Db, endpoint_id: FromPath[int]) -> Template:
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        values = {name: getattr(endpoint, name) for name in ("url", "description", "event_types", "is_active")}
        return _form(endpoint, values | {"allow_private": endpoint.allow_private}, {})

    @post("/{endpoint_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, endpoint_id: FromPath[int]) -> AnyResponse:
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        data = _endpoint(await read_form(request))
        try:
            await endpoints.update_endpoint(db, endpoint_id, data)
        except ValidationFailed as exc:
            return _form(endpoint, data, field_errors(exc), status_code=422)
        flash(request, f"Webhook endpoint {endpoint.url} saved.", "success")
        return after_change(request, "/settings/webhooks")

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/replay")
    async def replay(
        self, request: StaffRequest, db: Db, endpoint_id: FromPath[int], delivery_id: FromPath[int]
    ) -> AnyResponse:
        await endpoints.replay(db, endpoint_id, delivery_id)
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        later = "" if endpoint.is_active else " It will be sent once the endpoint is active again."
        flash(request, f"Delivery {delivery_id} queued again.{later}", "success")
        return after_change(request, f"/settings/webhooks/{endpoint_id}")

    @post("/{endpoint_id:int}/test")
    async def send_test(self, request: StaffRequest, db: Db, endpoint_id: FromPath[int]) -> AnyResponse:
        try:
            await endpoints.send_test(db, endpoint_id)
        except Conflict as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, "Test event queued: its delivery appears in the log below within seconds.", "success")
        return after_change(request, f"/settings/webhooks/{endpoint_id}")

    @get("/{endpoint_id:int}/delete")
    async def confirm_delete(self, db: Db, endpoint_id: FromPath[int]) -> Template:
        endpoint = await endpoints.get_endpoint(db, endpoint_id)
        return Template("webhooks/delete.html", context={"endpoint": endpoint})

    @post("/{endpoint_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, endpoint_id: FromPath[int]) -> AnyResponse:
        endpoint = await endpoints.delete_endpoint(db, endpoint_id)
        flash(request, f"Webhook endpoint {endpoint.url} deleted.", "success")
        return after_change(request, "/settings/webhooks")
