"""The seed mailbox form, the placement test's input, and the API's output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from webapp.core.schemas import Schema, email_address, flag, matches, one_of, text, whole_number
from webapp.settings.schemas import HOST, MAX_PASSWORD_LENGTH

PROVIDERS = {"gmail": "Gmail", "outlook": "Outlook / Hotmail", "yahoo": "Yahoo", "other": "Other"}
DEFAULT_WAIT_MINUTES = 30
MAX_WAIT_MINUTES = 24 * 60

IMAP_HOST = "Enter a host name or IP address, e.g. imap.example.com."
# Seed mailboxes are read over IMAP only: its ports alone (the bounce mailboxes' modes name POP3's too).
IMAP_TLS_MODES = {"tls": "TLS (port 993)", "starttls": "STARTTLS (port 143)", "none": "None (plain text, port 143)"}


class SeedMailboxInput(Schema, kw_only=True):
    """A seed: the address copies go to, and the IMAP mailbox behind it. A blank password keeps the
    saved one."""

    name: Annotated[str, Meta(title="Name"), text(200, blank="Name the seed, e.g. Gmail 1.")]
    provider: Annotated[str, Meta(title="Provider"), one_of(list(PROVIDERS), "Choose the mailbox provider.")]
    email: Annotated[str, Meta(title="Address"), email_address()]
    host: Annotated[str, Meta(title="IMAP host"), text(255, blank="Enter the IMAP host."), matches(HOST, IMAP_HOST)]
    port: Annotated[int, Meta(title="Port"), whole_number(1, 65535)]
    tls_mode: Annotated[
        str, Meta(title="TLS mode"), one_of(list(IMAP_TLS_MODES), "Choose a TLS mode: tls, starttls or none.")
    ]
    username: Annotated[str, Meta(title="Username"), text(320, blank="Enter the user name the mailbox signs in with.")]
    password: Annotated[str | UnsetType, Meta(title="Password"), text(MAX_PASSWORD_LENGTH)] = UNSET
    spam_folder: Annotated[str | UnsetType, Meta(title="Spam folder"), text(200)] = UNSET
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET
    allow_private: Annotated[bool | UnsetType, Meta(title="Allow a private address"), flag()] = UNSET


class PlacementTestInput(Schema, kw_only=True):
    wait_minutes: Annotated[
        int | UnsetType, Meta(title="Wait for copies (minutes)"), whole_number(1, MAX_WAIT_MINUTES)
    ] = UNSET


class AuthenticationOut(msgspec.Struct):
    dkim: str = ""
    spf: str = ""
    dmarc: str = ""


class PlacementCopyOut(msgspec.Struct):
    seed: str
    provider: str
    email: str
    status: str  # pending | sent | arrived | missing | failed
    placement: str  # inbox | spam | category | "" (not arrived)
    category: str
    folder: str
    authentication: AuthenticationOut
    seconds_to_arrive: float | None
    error: str


class PlacementTestOut(msgspec.Struct):
    id: int
    campaign_id: int
    status: str  # sending | waiting | done
    wait_minutes: int
    created_at: datetime
    finished_at: datetime | None
    copies: int
    arrived: int
    inbox: int
    spam: int
    category: int
    missing: int
    inbox_percent: float | None  # of the copies sent
    results: list[PlacementCopyOut]
