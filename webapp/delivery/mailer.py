"""Delivery: the Mailer sends each message through its transports (SMTP server pools, API
providers) in the order the routing gives, with failover; pooled connections per SMTP server,
shared rate limits, and the split between refusals of the recipient's mailbox (a hard bounce),
other refusals (the server's, the sender's or the message's fault) and transient failures.

No HTTP server code here. One Mailer per worker process, built from the configured servers and
providers and replaced (the old one retired) when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from webapp.delivery import warmup
from webapp.delivery.rates import HourDayQuota, PerSecond, QuotaReached
from webapp.delivery.routed import UNROUTED, Unrouted
from webapp.delivery.smtp_session import (
    CONNECT_TIMEOUT,
    SERVER_COOLDOWN_SECONDS,
    QuotaSpent,
    Refused,
    Reply,
    ServerDown,
    SmtpSession,
    SmtpTarget,
    envelope_lines,
    open_session,
)
from webapp.delivery.transports.base import Route, Transport, TransportRef
from webapp.routing.service.domain_rates import DomainBusy
from webapp.routing.service.health import Outcome as HealthOutcome

# A pooled session idle longer than this is asked NOOP before it carries a message: servers and
# firewalls drop quiet sessions, and a message sent into a dead one would count as the server's failure.
IDLE_CHECK_SECONDS = 5.0

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


def _refusal(reply: Reply) -> Exception:
    if 400 <= reply.code < 500:
        return TransientFailure(str(reply))
    return PermanentFailure(str(reply), mailbox_refused=mailbox_refused(reply.code, reply.text))


@dataclass(eq=False)
class _Turn:
    """One message at a server's pool, from its wait for a session to its outcome."""

    envelope: list[bytes]  # its MAIL FROM, RCPT TO (and DATA) as written
    message: bytes
    hand: Handover | None
    # Set while it waits for a session: the session (its envelope written after the end of data of
    # the message before it), or None (a free slot: it takes a session itself).
    woken: asyncio.Future[SmtpSession | None] | None = None
    following: _Turn | None = None  # the message whose envelope went with this one's end of data

    @property
    def before_data(self) -> Callable[[], Awaitable[bool]] | None:
        return self.hand.before_data if self.hand is not None else None


class ServerPool:
    """Up to max_connections open SMTP sessions to one server, reused across messages.

    Messages wait for a session in turn. When a message's content goes and another one waits,
    that one's envelope goes in the same write (RFC 2920 PIPELINING allows it after the end of
    data), and the session passes to it once the server answered the first: one write and one
    wait a message instead of two. The joined message is taken back as long as its content has not
    gone: if it may no longer go meanwhile (its task cancelled, the configuration changed), the
    session is closed before its content, and the server drops its half-done transaction."""

    def __init__(self, target: SmtpTarget, redis: Redis, current: Callable[[], bool]) -> None:
        self.target = target
        self.ref = TransportRef("smtp" if target.id is not None else "dev", target.id, target.name)
        self.current = current  # False once the configuration changed: the pool is about to be retired
        self.quota = HourDayQuota(redis, target.key, target.rate_per_hour, target.rate_per_day)
        self.rate = PerSecond(redis, target.key, target.rate_per_second)
        self.idle: list[tuple[SmtpSession, float]] = []  # with the time each was last used
        self.free = max(1, target.max_connections)  # slots for sessions, none of them taken
        self.queue: deque[_Turn] = deque()  # messages waiting for a slot (while none is free)
        self.down_until = 0.0
        self.quota_wait = 0.0  # seconds until the hourly/daily budget has room, when it is spent
        self.last_error = ""
        self.retired = False

    @property
    def priority(self) -> int:
        return self.target.priority

    @property
    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    @property
    def changed(self) -> bool:
        return self.retired or not self.current()

    def mark_down(self, error: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        self.down_until = time.monotonic() + seconds
        self.last_error = error

    async def _session(self) -> SmtpSession:
        """The most recently used idle session that is still alive, or a new one."""
        while self.idle:
            client, since = self.idle.pop()
            alive = client.is_connected and time.monotonic() - since < IDLE_CHECK_SECONDS
            try:
                if client.is_connected and not alive:
                    async with asyncio.timeout(CONNECT_TIMEOUT):
                        await client.command("NOOP")
                    alive = True
            except (Refused, OSError):
                pass
            finally:
                if not alive:
                    client.close()
            if alive:
                return client
        return await open_session(self.target)

    def _done_with(self, client: SmtpSession) -> None:
        if self.retired or not client.is_connected:
            client.close()
        else:
            self.idle.append((client, time.monotonic()))

    async def send(self, sender: str, recipient: str, message: bytes, hand: Handover | None = None) -> None:
        try:
            await self.quota.take()
        except QuotaReached as exc:
            raise QuotaSpent(str(exc), exc.seconds) from exc
        try:
            turn = _Turn(
                envelope_lines(sender, recipient, data=hand is None or hand.before_data is None), message, hand
            )
        except Refused as exc:
            raise _refusal(exc.reply) from exc
        client = await self._wait(turn)
        written = client is not None  # its envelope went with the previous message's end of data
        broken = True  # until the transfer ends in a state it knows
        try:
            if client is None:
                client = await self._start(turn)
            await self._transfer(client, turn, written)
            broken = False
        except (ServerDown, TransientFailure, PermanentFailure, InDoubt, Stopped):
            broken = False
            raise
        finally:
            self._pass_on(client, turn.following, broken)

    async def _wait(self, turn: _Turn) -> SmtpSession | None:
        """A session with the message's envelope written, or None: a slot of its own."""
        if self.free:  # then nobody waits
            self.free -= 1
            return None
        turn.woken = asyncio.get_running_loop().create_future()
        self.queue.append(turn)
        try:
            return await turn.woken
        except asyncio.CancelledError:
            if turn.woken.done() and not turn.woken.cancelled():  # woken, then cancelled
                self._pass_on(turn.woken.result(), None, broken=True)
            raise  # cancelled while it waited: skipped when its turn comes (or joined: see _pass_on)

    async def _start(self, turn: _Turn) -> SmtpSession:
        """A session for a message that has a slot of its own, checked at the last moment."""
        if self.changed:
            raise Retired("the SMTP servers were changed")
        await self.rate.take()
        client = await self._session()
        if self.changed:
            self._done_with(client)
            raise Retired("the SMTP servers were changed")
        if turn.hand is not None:
            if not turn.hand.may_go():
                self._done_with(client)
                raise Stopped
            turn.hand.handed = True
        return client

    def _next_to_join(self, client: SmtpSession) -> _Turn | None:
        """The first message waiting, when its envelope may go with this end of data: checked as
        a message with a session of its own is (no per-second limit, which spaces each message)."""
        if not client.pipelining or self.rate.interval or self.changed:
            return None
        while self.queue and self.queue[0].woken is not None and self.queue[0].woken.done():
            self.queue.popleft()  # cancelled while it waited
        if not self.queue or (self.queue[0].hand is not None and not self.queue[0].hand.may_go()):
            return None  # it wakes with a slot of its own, and stops there
        return self.queue.popleft()

    def _pass_on(self, client: SmtpSession | None, following: _Turn | None, broken: bool = False) -> None:
        """A message is done with its slot and session: both go to the message whose envelope went
        with its end of data, or else to the first one waiting, or are free. `broken`: the session
        is in a state nobody knows (its message's task was cancelled, or failed unexpectedly)."""
        if following is not None and following.woken is not None and not following.woken.cancelled():
            assert client is not None
            if broken or self.changed:  # it starts again on a session of its own, or the new configuration
                client.close()
                following.woken.set_result(None)
            else:
                if following.hand is not None:
                    following.hand.handed = True
                following.woken.set_result(client)
            return
        if client is not None:
            if broken or following is not None:  # a transaction is half done: the server drops it on close
                client.close()
            self._done_with(client)
        while self.queue:
            turn = self.queue.popleft()
            if turn.woken is not None and not turn.woken.done():
                turn.woken.set_result(None)
                return
        self.free += 1

    async def _transfer(self, client: SmtpSession, turn: _Turn, written: bool) -> None:
        """One message over a session: its envelope (when not written yet) and its replies; when
        the handover must be recorded between the recipient's acceptance and the content, the
        record, then DATA; then the content, with the next waiting message's envelope."""
        in_doubt = False  # a transfer broken from here on may have delivered the message
        content_written = False
        try:
            await client.envelope(turn.envelope, written=written)
            if turn.before_data is not None:
                if not await turn.before_data():
                    await _reset(client)
                    raise Stopped
                in_doubt = True  # recorded as being handed over: never tried again from here
                await client.command("DATA", success=3)
            turn.following = self._next_to_join(client)
            client.write_content(turn.message, b"".join(turn.following.envelope) if turn.following else b"")
            in_doubt = content_written = True
            await client.accepted()
        except Refused as exc:  # a reply: the server did not take the message
            if exc.reply.code == 421 or not client.is_connected:  # server is closing the session
                client.close()
                raise ServerDown(str(exc.reply)) from exc
            if not content_written:  # the reply to the content ends the transaction; others need RSET
                await _reset(client)
            raise _refusal(exc.reply) from exc
        except OSError as exc:  # the connection broke or the server went silent (TimeoutError)
            client.close()
            error = f"{self.target.host}:{self.target.port}: {exc or exc.__class__.__name__}"
            if in_doubt:
                raise InDoubt(error) from exc
            raise ServerDown(error) from exc

    def retire(self) -> None:
        """No new message goes through this pool: the ones waiting for a slot are woken to go
        through the new configuration, and sessions close as they come free."""
        self.retired = True
        while self.queue:
            turn = self.queue.popleft()
            if turn.woken is not None and not turn.woken.done():
                turn.woken.set_result(None)
        for client, _ in self.idle:
            client.close()
        self.idle.clear()

    async def close(self) -> None:
        for client, _ in self.idle:
            with contextlib.suppress(Refused, OSError):
                await client.quit()
        self.idle.clear()


async def _reset(client: SmtpSession) -> None:
    try:
        await client.command("RSET")
    except (Refused, OSError):
        client.close()


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
    transport cannot be used, tries the next one. Returns which transport took the message."""

    def __init__(self, transports: Sequence[Transport], routing: Unrouted = UNROUTED) -> None:
        self.transports = list(transports)
        self.routing = routing
        self._turn = itertools.count()

    async def send(
        self, sender: str, recipient: str, message: bytes, hand: Handover | None = None, *, route: Route
    ) -> TransportRef:
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
                    await transport.send(sender, recipient, message, hand)
            except ServerDown as exc:
                transport.mark_down(str(exc), exc.seconds)
                transport.quota_wait = exc.seconds if isinstance(exc, QuotaSpent) else 0.0
                errors.append(f"{transport.ref.name}: {exc}")
                if not isinstance(exc, QuotaSpent):
                    await self.routing.record(transport.ref, route, "error", None)
                continue
            except (TransientFailure, PermanentFailure, InDoubt) as exc:
                if (outcome := _health_outcome(exc)) is not None:
                    await self.routing.record(transport.ref, route, outcome, timer.seconds())
                raise
            await self.routing.record(transport.ref, route, "sent", timer.seconds())
            return transport.ref
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
