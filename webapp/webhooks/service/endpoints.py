"""Webhook endpoints admins register: validation (including where the URL leads), a signing
secret made here and kept encrypted, the delivery log, and replaying a delivery from it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.addresses import RefusedAddress
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.webhooks import queries
from webapp.webhooks.models import WebhookDelivery, WebhookEndpoint
from webapp.webhooks.schemas import WebhookEndpointInput
from webapp.webhooks.service import outbox
from webapp.webhooks.service.addresses import check

LOG_LENGTH = 100  # deliveries shown in an endpoint's log
TEST_EVENT = "webhook.test"
# How long a replaced secret may go on signing beside the new one (hours: label), the form's choices.
OVERLAPS = {0: "No: it stops at once", 1: "For 1 hour", 24: "For 24 hours", 72: "For 3 days"}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def _columns(data: Mapping[str, Any]) -> Values:
    values = load(WebhookEndpointInput, data)
    try:
        await check(values["url"], allow_private=bool(values.get("allow_private")))
    except RefusedAddress as exc:
        raise ValidationFailed({"url": str(exc)}) from None
    return values


async def list_endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    return await queries.endpoints(session)


async def get_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id) if is_valid_id(endpoint_id) else None
    if endpoint is None:
        raise NotFound("That webhook endpoint does not exist (it may have been deleted).")
    return endpoint


async def create_endpoint(session: AsyncSession, data: Mapping[str, Any]) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret in plain text, to show once."""
    values = await _columns(data)
    secret = new_secret()
    endpoint = WebhookEndpoint(**values, secret_encrypted=secret_box.encrypt(secret))
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def update_endpoint(session: AsyncSession, endpoint_id: int, data: Mapping[str, Any]) -> WebhookEndpoint:
    """Switching an endpoint on again (after it was switched off for failing) starts its count afresh."""
    endpoint = await get_endpoint(session, endpoint_id)
    values = await _columns(data)
    values.setdefault("is_active", False)  # a form sends the box only when it is ticked
    values.setdefault("allow_private", False)
    if values["is_active"] and not endpoint.is_active:
        values |= {"disabled_at": None, "disabled_reason": "", "consecutive_failures": 0, "failing_since": None}
    for name, value in values.items():
        setattr(endpoint, name, value)
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id)
    await session.delete(endpoint)
    await session.flush()
    return endpoint


def secret_of(endpoint: WebhookEndpoint) -> str:
    return secret_box.decrypt(endpoint.secret_encrypted)


async def rotate_secret(session: AsyncSession, endpoint_id: int, overlap: str) -> tuple[WebhookEndpoint, str]:
    """A new secret in place of the endpoint's, in plain text to show once. For `overlap` hours
    (one of OVERLAPS) requests carry a signature with the replaced secret too, so a receiver still
    checking with it refuses nothing while its owner changes it; 0 stops it at once (it leaked)."""
    endpoint = await get_endpoint(session, endpoint_id)
    hours = int(overlap) if overlap.isdigit() else None
    if hours not in OVERLAPS:
        raise ValidationFailed({"overlap": "Choose how long the old secret goes on signing."})
    secret = new_secret()
    # A second rotation within an overlap ends the first's: the secret replaced now is the one kept.
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted if hours else None
    endpoint.previous_secret_until = datetime.now(UTC) + timedelta(hours=hours) if hours else None
    endpoint.secret_encrypted = secret_box.encrypt(secret)
    await session.flush()
    return endpoint, secret


def previous_secret_until(endpoint: WebhookEndpoint) -> datetime | None:
    """Until when the replaced secret still signs, or None when it no longer does."""
    until = endpoint.previous_secret_until
    return until if until is not None and until > datetime.now(UTC) else None


async def log(session: AsyncSession, endpoint_id: int) -> list[WebhookDelivery]:
    return await queries.deliveries(session, endpoint_id, LOG_LENGTH)


async def replay(session: AsyncSession, endpoint_id: int, delivery_id: int) -> int:
    """Queue the delivery's event again for its endpoint; the new delivery's id."""
    await get_endpoint(session, endpoint_id)
    new_id = await queries.replay(session, endpoint_id, delivery_id) if is_valid_id(delivery_id) else None
    if new_id is None:
        raise NotFound("That delivery is not in this endpoint's log.")
    return new_id


async def send_test(session: AsyncSession, endpoint_id: int) -> None:
    """Queue a test event for the endpoint, signed and sent like any other, whatever it subscribed
    to; its answer lands in the log."""
    endpoint = await get_endpoint(session, endpoint_id)
    if not endpoint.is_active:
        raise Conflict("This endpoint is switched off: tick “Active” before sending it a test event.")
    data = {"endpoint_id": endpoint.id, "message": "A test event from Mailroom. Check its signature like any other."}
    await outbox.emit_to_endpoint(session, endpoint.id, TEST_EVENT, [data])
