"""Delivery: the Mailer sends each message through its transports (SMTP server pools:
smtp_pool.py, API providers) in the order the routing gives, with failover; what can become of a
message (the exceptions below), and the split between refusals of the recipient's mailbox (a hard bounce),
other refusals (the server's, the sender's or the message's fault) and transient failures.

No HTTP server code here. One Mailer per worker process, built from the configured servers and
providers and replaced (the old one retired) when they change.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from webapp.delivery import warmup
from webapp.delivery.routed import UNROUTED, Unrouted
from webapp.delivery.smtp_session import QuotaSpent, ServerDown
from webapp.delivery.transports.base import Route, Taken, Transport, TransportRef
from webapp.routing.service.domain_rates import DomainBusy
from webapp.routing.service.health import Outcome as HealthOutcome

# RFC 3463 enhanced status codes that blame the recipient's mailbox: the address classes 5.1.x
# except 5.1.7 and 5.1.8 (the sender's address) and 5.1.9, and 5.2.1 (mailbox disabled). Nothing
# else is a hard bounce: policy (5.7.x, "Relay access denied"), the system, the network, the
# message, a full mailbox, and replies without an enhanced code say nothing certain about it.
MAILBOX_CODES = frozenset({"5.1.0", "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.6", "5.1.10", "5.2.1"})
ENHANCED_CODE = re.compile(r"\s*(\d\.\d{1,3}\.\d{1,3})\b")


class TransientFailure(Exception):
    """Try again later: a 4xx reply, or no server could be reached."""


class Unreachable(TransientFailure):
    """No server accepted a connection (refused, timed out, authentication failed)."""


class Throttled(TransientFailure):
    """Every server has used up its hourly or daily budget; try again when one has room."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Retired(TransientFailure):
    """The server configuration changed while the message waited: send it with the new one."""


class Stopped(Exception):
    """The message may no longer go (its campaign stopped); it was not handed to any server."""


class InDoubt(Exception):
    """The transfer broke off after the message's content began to go: the server may have
    accepted it. Never tried again, here or on another server, so it is never sent twice."""


class PermanentFailure(Exception):
    """A 5xx reply. mailbox_refused: the server refused the recipient's mailbox itself."""

    def __init__(self, message: str, mailbox_refused: bool) -> None:
        super().__init__(message)
        self.mailbox_refused = mailbox_refused


@dataclass
class Handover:
    """One message on its way: whether it may still go, checked at the last moment before it is
    handed to a server, and whether it was (or its outcome is known): from then on nobody takes
    it back."""

    may_go: Callable[[], bool]
    handed: bool = False
    # Set: awaited once the server accepted the recipient, right before the content goes; it
    # records the message as being handed over (committed), and answers False when the message
    # may no longer go. From then on a broken transfer is InDoubt, not a server failure to retry.
    before_data: Callable[[], Awaitable[bool]] | None = None


def mailbox_refused(code: int, message: str) -> bool:
    """Whether a refusal blames the recipient's mailbox (see MAILBOX_CODES)."""
    found = ENHANCED_CODE.match(message)
    return 500 <= code < 600 and found is not None and found.group(1) in MAILBOX_CODES


def _health_outcome(exc: Exception) -> HealthOutcome | None:
    """What a transport's answer says of its health; None: nothing (the configuration changed)."""
    if isinstance(exc, Retired):
        return None
    if isinstance(exc, TransientFailure):
        return "deferred"
    if isinstance(exc, PermanentFailure) and exc.mailbox_refused:
        return "refused"
    return "error"  # a policy or content refusal, a transfer broken off


class _Timer:
    """A transport's latency: from the moment the message may go (its hand-over's last check,
    after any wait for a connection or a rate limit) to the transport's answer. The hand-over
    itself is watched (the pipeline reads its `handed`), its check restored afterwards."""

    def __init__(self, hand: Handover | None) -> None:
        self.started = time.monotonic()
        self.hand = hand
        self.may_go = hand.may_go if hand is not None else None

    def __enter__(self) -> _Timer:
        if self.hand is not None and self.may_go is not None:
            check = self.may_go

            def checked() -> bool:
                self.started = time.monotonic()
                return check()

            self.hand.may_go = checked
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hand is not None and self.may_go is not None:
            self.hand.may_go = self.may_go

    def seconds(self) -> float:
        return time.monotonic() - self.started


class Mailer:
    """Sends each message through its transports in the order `order` gives for the message's
    route (by default: priority order, taking turns among transports of the same priority); when a
    transport cannot be used, tries the next one. Returns which transport took the message (and
    the provider's id of it)."""

    def __init__(self, transports: Sequence[Transport], routing: Unrouted = UNROUTED) -> None:
        self.transports = list(transports)
        self.routing = routing
        self._turn = itertools.count()

    async def send(
        self, sender: str, recipient: str, message: bytes, hand: Handover | None = None, *, route: Route
    ) -> Taken:
        if not self.transports:
            raise Unreachable("No SMTP server or provider is configured.")
        try:
            await self.routing.admit(route)
        except DomainBusy as exc:
            raise Throttled(str(exc), retry_after=exc.seconds) from exc
        order, errors = await self.routing.order(self.transports, route, next(self._turn)), []
        for transport in order:
            try:
                await warmup.take_one(transport.ref)
                with _Timer(hand) as timer:
                    provider_message_id = await transport.send(sender, recipient, message, hand)
            except ServerDown as exc:
                transport.mark_down(str(exc), exc.seconds)
                transport.quota_wait = exc.seconds if isinstance(exc, QuotaSpent) else 0.0
                errors.append(named(transport.ref.name, str(exc)))
                if not isinstance(exc, QuotaSpent):
                    await self.routing.record(transport.ref, route, "error", None)
                continue
            except (TransientFailure, PermanentFailure, InDoubt) as exc:
                if (outcome := _health_outcome(exc)) is not None:
                    await self.routing.record(transport.ref, route, outcome, timer.seconds())
                raise
            await self.routing.record(transport.ref, route, "sent", timer.seconds())
            return Taken(transport.ref, provider_message_id or None)
        if all(transport.quota_wait for transport in order):
            raise Throttled(
                "Every server and provider has reached its sending limit: " + "; ".join(errors),
                retry_after=min(transport.quota_wait for transport in order),
            )
        raise Unreachable("No server or provider accepted the message: " + "; ".join(errors))

    def take_errors(self) -> dict[TransportRef, str]:
        """Errors of configured transports since the last call, for admins to see on their pages."""
        errors = {t.ref: t.last_error for t in self.transports if t.last_error and t.ref.id is not None}
        for transport in self.transports:
            transport.last_error = ""
        return errors

    def retire(self) -> None:
        for transport in self.transports:
            transport.retire()

    async def close(self) -> None:
        await asyncio.gather(*(transport.close() for transport in self.transports), return_exceptions=True)


def named(name: str, problem: str) -> str:
    """A transport's problem with its name in front, once (a provider's own messages start with it)."""
    return problem if problem.startswith((f"{name}:", f"{name} ")) else f"{name}: {problem}"
