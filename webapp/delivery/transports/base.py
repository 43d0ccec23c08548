"""What the Mailer needs of a transport (an SMTP server's pool, an API provider, the dev capture
server), which one took a message (and the provider's id of it), and the Route a message travels:
what routing decides by."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from webapp.delivery.smtp_session import SERVER_COOLDOWN_SECONDS

if TYPE_CHECKING:
    from webapp.delivery.mailer import Handover


@dataclass(frozen=True)
class Route:
    """What a message is, for choosing its transport: its kind (marketing, automation,
    transactional), its campaign, and its recipient's domain (lower case)."""

    kind: str
    campaign_id: int | None
    recipient_domain: str

    @classmethod
    def to(cls, recipient: str, kind: str, campaign_id: int | None = None) -> Route:
        return cls(kind=kind, campaign_id=campaign_id, recipient_domain=recipient.rpartition("@")[2].lower())


@dataclass(frozen=True)
class TransportRef:
    """Names a transport stably across workers and configuration reloads."""

    kind: Literal["smtp", "provider", "dev"]
    id: int | None
    name: str

    @property
    def key(self) -> str:
        """ "smtp:<id>", "provider:<id>" or "dev": for shared state such as health and quotas."""
        return self.kind if self.id is None else f"{self.kind}:{self.id}"

    @property
    def smtp_server_id(self) -> int | None:
        return self.id if self.kind == "smtp" else None

    @property
    def provider_id(self) -> int | None:
        return self.id if self.kind == "provider" else None


@dataclass(frozen=True)
class Taken:
    """Which transport took a message, and the id its provider gave it (API providers only)."""

    by: TransportRef
    provider_message_id: str | None = None


class Availability:
    """Whether a transport may be used now, and why not: the part of Transport every kind keeps
    the same way."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.quota_wait = 0.0  # seconds until the hourly/daily budget has room, when it is spent
        self.last_error = ""
        self.retired = False

    @property
    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def mark_down(self, error: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        self.down_until = time.monotonic() + seconds
        self.last_error = error


class Transport(Protocol):
    """Takes one message at a time; raises ServerDown (or QuotaSpent) when it cannot be used now,
    and the Mailer's TransientFailure, PermanentFailure, InDoubt or Stopped for the message."""

    ref: TransportRef
    quota_wait: float  # seconds until its hourly/daily budget has room, when that is why it is down
    last_error: str  # since the errors were last taken, for admins

    @property
    def priority(self) -> int: ...

    @property
    def available(self) -> bool: ...

    def mark_down(self, error: str, seconds: float = ...) -> None: ...

    async def send(self, sender: str, recipient: str, message: bytes, hand: Handover | None = None) -> str | None:
        """The provider's id of the message, where the transport's service gives one."""
        ...

    def retire(self) -> None: ...

    async def close(self) -> None: ...
