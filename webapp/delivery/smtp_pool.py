"""An SMTP server's pool: up to max_connections open sessions, reused across messages, with the
server's limits (per second, hour and day, shared by every worker through Redis), the last check
before a message is handed over, and what each failure means for the message (mailer.py's
exceptions). Messages waiting for a session queue here; a message's end of data goes in one write
with the next waiting message's envelope (RFC 2920)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from webapp.core.addresses import host_port
from webapp.delivery.mailer import (
    Handover,
    InDoubt,
    PermanentFailure,
    Retired,
    Stopped,
    TransientFailure,
    mailbox_refused,
)
from webapp.delivery.rates import HourDayQuota, PerSecond, QuotaReached
from webapp.delivery.smtp_session import (
    CONNECT_TIMEOUT,
    QuotaSpent,
    Refused,
    ServerDown,
    SmtpSession,
    SmtpTarget,
    envelope_lines,
    open_session,
)
from webapp.delivery.transports.base import Availability, TransportRef

# A pooled session idle longer than this is asked NOOP before it carries a message: servers and
# firewalls drop quiet sessions, and a message sent into a dead one would count as the server's failure.
IDLE_CHECK_SECONDS = 5.0


def _refusal(refused: Refused) -> Exception:
    """What a refusal makes of the message. One of MAIL FROM is about the sender: never a bounce of
    the recipient's mailbox, whatever its code (a malformed sender address draws 553 5.1.3)."""
    reply = refused.reply
    if 400 <= reply.code < 500:
        return TransientFailure(str(reply))
    blames_mailbox = not refused.of_sender and mailbox_refused(reply.code, reply.text)
    return PermanentFailure(str(reply), mailbox_refused=blames_mailbox)


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


class ServerPool(Availability):
    """Up to max_connections open SMTP sessions to one server, reused across messages.

    Messages wait for a session in turn. When a message's content goes and another one waits,
    that one's envelope goes in the same write (RFC 2920 PIPELINING allows it after the end of
    data), and the session passes to it once the server answered the first: one write and one
    wait a message instead of two. The joined message is taken back as long as its content has not
    gone: if it may no longer go meanwhile (its task cancelled, the configuration changed), the
    session is closed before its content, and the server drops its half-done transaction."""

    def __init__(self, target: SmtpTarget, redis: Redis, current: Callable[[], bool]) -> None:
        super().__init__()
        self.target = target
        self.ref = TransportRef("smtp" if target.id is not None else "dev", target.id, target.name)
        self.current = current  # False once the configuration changed: the pool is about to be retired
        self.quota = HourDayQuota(redis, target.key, target.rate_per_hour, target.rate_per_day)
        self.rate = PerSecond(redis, target.key, target.rate_per_second)
        self.idle: list[tuple[SmtpSession, float]] = []  # with the time each was last used
        self.free = max(1, target.max_connections)  # slots for sessions, none of them taken
        self.queue: deque[_Turn] = deque()  # messages waiting for a slot (while none is free)

    @property
    def priority(self) -> int:
        return self.target.priority

    @property
    def changed(self) -> bool:
        return self.retired or not self.current()

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
            raise _refusal(exc) from exc
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
            raise _refusal(exc) from exc
        except OSError as exc:  # the connection broke or the server went silent (TimeoutError)
            client.close()
            error = f"{host_port(self.target.host, self.target.port)}: {exc or exc.__class__.__name__}"
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
