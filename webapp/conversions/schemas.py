"""The conversion input (the API's body and the pixel's query alike) and the API's output."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from babel.numbers import list_currencies
from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.core.schemas import Rule, Schema, Values, email_address, moment, row_id, text, whole_number

MAX_AMOUNT = Decimal("99999999999999.9999")
CURRENCIES = frozenset(list_currencies())
# More than 0, at most 14 digits before the point and 4 after it: what _amount takes as text.
AMOUNT_PATTERN = r"^\s*(?!0*(?:\.0*)?\s*$)[0-9]{1,14}(?:\.[0-9]{1,4})?\s*$"


def _amount(value: Any, label: str) -> Decimal:
    """A positive decimal with at most four decimal places, kept exactly as sent (a JSON number
    arrives as a Decimal: the API decodes floats as decimals)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{label} must be a decimal number such as 49.90.") from None
    if isinstance(value, bool) or not amount.is_finite():
        raise ValueError(f"{label} must be a decimal number such as 49.90.")
    if amount <= 0:
        raise ValueError(f"{label} must be more than 0.")
    if amount > MAX_AMOUNT or -amount.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValueError(f"{label} must have at most 14 digits before the point and 4 after it.")
    return amount


def _currency(value: Any, label: str) -> str:
    if isinstance(value, str) and value.strip().upper() in CURRENCIES and len(value.strip()) == 3:
        return value.strip().upper()
    raise ValueError(f"{label} must be an ISO 4217 code of three letters, such as EUR or USD.")


class ConversionIn(Schema, kw_only=True):
    contact_id: Annotated[int | UnsetType, Meta(title="Contact id"), row_id()] = UNSET
    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET
    amount: Annotated[Decimal, Meta(title="Amount"), Rule(_amount, converts=True, limits={"pattern": AMOUNT_PATTERN})]
    currency: Annotated[
        str,
        Meta(title="Currency"),
        Rule(_currency, converts=True, limits={"enum": sorted(c for c in CURRENCIES if len(c) == 3)}),
    ]
    order_id: Annotated[str, Meta(title="Order id"), text(200, blank="Enter the order id.")]
    occurred_at: Annotated[str | UnsetType, Meta(title="Occurred at"), moment()] = UNSET

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if ("contact_id" in values) == ("email" in values):  # both could name two contacts
            return {"email": "Send the contact's email or contact_id (one of them)."}
        return {}


class AttributionOut(Struct, frozen=True, kw_only=True):
    campaign_id: int
    delivery_id: int
    link_id: int | None


class ConversionOut(Struct, frozen=True, kw_only=True):
    id: int
    order_id: str
    contact_id: int | None
    amount: str  # exact, as a string: a JSON number would pass through a float in many clients
    currency: str
    occurred_at: datetime
    source: str
    attribution: AttributionOut | None
    created_at: datetime


class Revenue(Struct, frozen=True, kw_only=True):
    """A campaign's attributed orders in one currency."""

    currency: str
    orders: int
    amount: Decimal


class ConversionSettingsIn(Schema, kw_only=True):
    window_days: Annotated[int, Meta(title="Attribution window (days)"), whole_number(1, 90)]
