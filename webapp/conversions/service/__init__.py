"""Recording conversions and reading a campaign's revenue.

A conversion is credited to the contact's last human click (machine and scanner clicks left out)
in the attribution window before it: last click, because it is the one the shop's visitor
followed to buy. An order is stored once: a repeat answers with the stored conversion, a repeat
that differs in amount or currency is a conflict naming that field."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.conversions import queries
from webapp.conversions.models import Conversion
from webapp.conversions.schemas import ConversionIn, Revenue
from webapp.conversions.service import settings
from webapp.core.errors import Conflict
from webapp.core.schemas import load

SIGNED_FIELDS = ("order_id", "email", "amount", "currency")


@dataclass(frozen=True)
class Recorded:
    conversion: Conversion
    created: bool


async def record(session: AsyncSession, data: Mapping[str, Any], *, source: str) -> Recorded:
    values = load(ConversionIn, data)
    contact_id = await contacts.named_in(session, values)
    stored = await queries.by_order(session, values["order_id"])
    if stored is None:
        occurred_at = values.get("occurred_at") or datetime.now(UTC)
        credit = await _credit(session, contact_id, occurred_at)
        row = {
            "order_id": values["order_id"],
            "contact_id": contact_id,
            "amount": values["amount"],
            "currency": values["currency"],
            "occurred_at": occurred_at,
            "source": source,
            **credit,
        }
        if (new := await queries.insert_once(session, row)) is not None:
            return Recorded(new, created=True)
        stored = await queries.by_order(session, values["order_id"])
        assert stored is not None  # inserted by a concurrent request a moment ago
    _same_order(stored, values, contact_id)
    return Recorded(stored, created=False)


async def _credit(session: AsyncSession, contact_id: int, occurred_at: datetime) -> dict[str, int | None]:
    window = timedelta(days=await settings.window_days(session))
    return await queries.last_human_click(session, contact_id, occurred_at - window, occurred_at)


def _same_order(stored: Conversion, values: Mapping[str, Any], contact_id: int) -> None:
    for field, sent, kept in (
        ("amount", values["amount"], stored.amount),
        ("currency", values["currency"], stored.currency),
        ("email" if "email" in values else "contact_id", contact_id, stored.contact_id),
    ):
        if sent != kept:
            what = field.replace("_", " ")
            raise Conflict(f"Order {stored.order_id} was recorded already with another {what}.", field)


def signature(key: str, params: Mapping[str, str]) -> str:
    """HMAC-SHA256 (hex) of the signed fields joined by newlines: what a shop's server computes."""
    message = "\n".join(params.get(name, "") for name in SIGNED_FIELDS)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


async def record_signed(session: AsyncSession, params: Mapping[str, str]) -> Recorded | None:
    """A conversion from the pixel, or None when its signature is not the organisation's."""
    expected = signature(await settings.snippet_key(session), params)
    if not hmac.compare_digest(expected.encode(), params.get("sig", "").encode()):  # bytes: any text compares
        return None
    return await record(session, {name: params.get(name, "") for name in SIGNED_FIELDS}, source="pixel")


async def campaign_revenue(session: AsyncSession, campaign_id: int) -> list[Revenue]:
    """Per currency: several currencies are never added together."""
    return await queries.campaign_revenue(session, campaign_id)


async def of_contact(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    """The contact's orders, for their data export (the amount exact, as text)."""
    return [
        {
            "order_id": c.order_id,
            "amount": str(c.amount),
            "currency": c.currency,
            "occurred_at": c.occurred_at,
            "campaign_id": c.campaign_id,
        }
        for c in await queries.of_contact(session, contact_id)
    ]
