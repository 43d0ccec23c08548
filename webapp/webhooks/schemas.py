"""The webhooks feature's input (an endpoint, for the form and the API alike) and the API's output
shapes, with the event types an endpoint can subscribe to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.core.schemas import Rule, Schema, flag, text

EVENT_TYPES = {
    "contact.created": "A contact is added (form, API or sign-up).",
    "contact.updated": "A contact is edited.",
    "contact.unsubscribed": "A contact unsubscribes (link, one-click or preference centre), once per opt-out.",
    "email.sent": "A campaign message was accepted by the SMTP server.",
    "email.delivered": "A provider reports the message delivered.",
    "email.opened": "A message was opened.",
    "email.clicked": "A link in a message was clicked.",
    "email.bounced": "A message bounced.",
    "email.complained": "A recipient marked a message as spam.",
    "campaign.started": "A campaign starts sending.",
    "campaign.completed": "A campaign has been sent to everyone.",
}
MAX_URL_LENGTH = 2000
URL_MESSAGE = "Enter an http:// or https:// URL, e.g. https://example.com/hooks/mailroom."


def _url(raw: Any, label: str) -> str:
    """An absolute http(s) URL without user info (credentials belong in the signature, not the URL)."""
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise ValueError(URL_MESSAGE)
    if len(raw.strip()) > MAX_URL_LENGTH:
        raise ValueError(f"Use a URL of at most {MAX_URL_LENGTH:,} characters.")
    url = raw.strip()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise ValueError(URL_MESSAGE) from None
    if port == 0:
        raise ValueError("Port 0 is no port to send to: leave it out, or give the receiver's port (1 to 65535).")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(URL_MESSAGE)
    if parts.username or parts.password:
        raise ValueError("Leave the user name and password out of the URL; requests are signed instead.")
    return url


def _event_types(raw: Any, label: str) -> list[str]:
    """One or many event types (a form's ticked boxes, or a JSON list), in the catalogue's order."""
    chosen = [raw] if isinstance(raw, str) else raw
    if not isinstance(chosen, list) or not all(isinstance(item, str) for item in chosen):
        raise ValueError("Send the event types as a list of names.")
    unknown = [item for item in chosen if item not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"Unknown event type '{unknown[0][:50]}'. Choose from: {', '.join(EVENT_TYPES)}.")
    if not chosen:
        raise ValueError("Choose at least one event.")
    return [name for name in EVENT_TYPES if name in chosen]


class WebhookEndpointInput(Schema, kw_only=True):
    """An endpoint, whole."""

    url: Annotated[str, Meta(title="URL"), Rule(_url, missing=URL_MESSAGE, converts=True)]
    description: Annotated[str | UnsetType, Meta(title="Description"), text(200)] = UNSET
    event_types: Annotated[
        list[str] | str, Meta(title="Events"), Rule(_event_types, missing="Choose at least one event.", converts=True)
    ]
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET
    allow_private: Annotated[bool | UnsetType, Meta(title="Allow private addresses"), flag()] = UNSET


class WebhookEndpointOut(Struct, kw_only=True):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    allow_private: bool
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut, kw_only=True):
    secret: str  # only in the answer to creating it, and to an admin who reveals it


class WebhookDeliveryOut(Struct, kw_only=True):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_code: int | None
    duration_ms: int | None
    response_body: str
    error: str
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    created_at: datetime
