"""The bounce mailbox form: where bounce and complaint mail arrives (IMAP or POP3), the address
that goes out as every message's return path, and how often the mailbox is read."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from webapp.core.schemas import Schema, flag, matches, one_of, optional_email_address, text, whole_number
from webapp.settings.schemas import HOST, HOST_MESSAGE, MAX_PASSWORD_LENGTH

PROTOCOLS = {"imap": "IMAP", "pop3": "POP3"}
TLS_MODES = {
    "tls": "TLS (IMAP 993, POP3 995)",
    "starttls": "STARTTLS (IMAP 143, POP3 110)",
    "none": "None (plain text)",
}
MAX_POLL_MINUTES = 24 * 60


class BounceMailboxInput(Schema, kw_only=True):
    """The whole form. A blank password keeps the saved one."""

    bounce_address: Annotated[str, Meta(title="Bounce address"), optional_email_address()]
    protocol: Annotated[str, Meta(title="Protocol"), one_of(list(PROTOCOLS), "Choose IMAP or POP3.")]
    host: Annotated[str, Meta(title="Host"), text(255), matches(HOST, HOST_MESSAGE)]
    port: Annotated[int, Meta(title="Port"), whole_number(1, 65535)]
    tls_mode: Annotated[
        str, Meta(title="TLS mode"), one_of(list(TLS_MODES), "Choose a TLS mode: tls, starttls or none.")
    ]
    username: Annotated[str, Meta(title="Username"), text(320)]
    password: Annotated[str | UnsetType, Meta(title="Password"), text(MAX_PASSWORD_LENGTH)] = UNSET
    folder: Annotated[str, Meta(title="Folder"), text(200)]
    poll_minutes: Annotated[int, Meta(title="Poll interval"), whole_number(0, MAX_POLL_MINUTES)]
    delete_processed: Annotated[bool | UnsetType, Meta(title="Delete processed messages"), flag()] = UNSET
    allow_private: Annotated[bool | UnsetType, Meta(title="Allow a private address"), flag()] = UNSET

    @classmethod
    def rules(cls, values: dict[str, Any]) -> dict[str, str]:
        if values.get("host") and not values.get("username"):
            return {"username": "Enter the user name the mailbox signs in with."}
        return {}
