"""A provider as the admin form and the service take it: the fields every kind has, and each
kind's settings and secrets (blank secrets keep the saved ones)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from webapp.core.schemas import Rule, Schema, flag, matches, one_of, text, whole_number
from webapp.providers.models import ProviderKind

KIND_NAMES = {
    ProviderKind.SES.value: "Amazon SES",
    ProviderKind.SENDGRID.value: "SendGrid",
    ProviderKind.POSTMARK.value: "Postmark",
    ProviderKind.MAILGUN.value: "Mailgun",
}
# Per kind: its settings and its secrets, by form field name.
SETTINGS = {
    "ses": ("region", "configuration_set", "base_url"),
    "sendgrid": ("base_url",),
    "postmark": ("message_stream", "base_url"),
    "mailgun": ("domain", "region", "base_url"),
}
SECRETS = {
    "ses": ("access_key_id", "secret_access_key"),
    "sendgrid": ("api_key",),
    "postmark": ("server_token",),
    "mailgun": ("api_key",),
}
MAX_RATE = 10_000_000
MAX_SECRET_LENGTH = 500
AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PORT = r"6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}"  # 1 to 65535
BASE_URL = re.compile(rf"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:({PORT}))?$")  # a name, IPv4 or [IPv6]
BASE_URL_MESSAGE = "Enter the API's address: https:// and a host name, no path; or leave it blank for the service's."
# The address as often pasted, with a slash at its end: the same address.
NO_TRAILING_SLASH = Rule(lambda value, label: value.rstrip("/") if isinstance(value, str) else value)


def _secret(raw: Any, label: str) -> str:
    """Kept as typed but trimmed; blank keeps the saved one."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or len(raw) > MAX_SECRET_LENGTH or "\x00" in raw:
        raise ValueError(f"Enter {label} as text of at most {MAX_SECRET_LENGTH} characters.")
    return raw.strip()


Secret = Rule(_secret, converts=True)


NAME_MISSING = "Give the provider a name, e.g. “SES eu-west-1” or “Postmark receipts”."


class ProviderInput(Schema, kw_only=True):
    name: Annotated[str, Meta(title="Name"), text(200, blank=NAME_MISSING)]
    kind: Annotated[
        str, Meta(title="Service"), one_of(list(KIND_NAMES), "Choose the service: ses, sendgrid, postmark or mailgun.")
    ]
    batch_size: Annotated[int, Meta(title="Batch size"), whole_number(1, 1000)]
    rate_per_second: Annotated[int, Meta(title="Rate per second"), whole_number(0, MAX_RATE)]
    rate_per_hour: Annotated[int, Meta(title="Rate per hour"), whole_number(0, MAX_RATE)]
    rate_per_day: Annotated[int, Meta(title="Rate per day"), whole_number(0, MAX_RATE)]
    max_connections: Annotated[int, Meta(title="Concurrent requests"), whole_number(1, 50)]
    priority: Annotated[int, Meta(title="Priority"), whole_number(0, 1000)]
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET
    region: Annotated[str | UnsetType, Meta(title="Region"), text(30)] = UNSET
    configuration_set: Annotated[
        str | UnsetType, Meta(title="Configuration set"), text(64), matches(NAME, "Use letters, digits, '-' or '_'.")
    ] = UNSET
    message_stream: Annotated[
        str | UnsetType, Meta(title="Message stream"), text(64), matches(NAME, "Use letters, digits, '-' or '_'.")
    ] = UNSET
    domain: Annotated[
        str | UnsetType,
        Meta(title="Sending domain"),
        text(253),
        matches(DOMAIN, "Enter a domain, e.g. mg.example.com."),
    ] = UNSET
    base_url: Annotated[
        str | UnsetType,
        Meta(title="API address"),
        text(300),
        NO_TRAILING_SLASH,
        matches(BASE_URL, BASE_URL_MESSAGE),
    ] = UNSET
    allow_private: Annotated[bool | UnsetType, Meta(title="Allow a private address"), flag()] = UNSET
    access_key_id: Annotated[str | UnsetType, Meta(title="Access key ID"), Secret] = UNSET
    secret_access_key: Annotated[str | UnsetType, Meta(title="Secret access key"), Secret] = UNSET
    api_key: Annotated[str | UnsetType, Meta(title="API key"), Secret] = UNSET
    server_token: Annotated[str | UnsetType, Meta(title="Server API token"), Secret] = UNSET
