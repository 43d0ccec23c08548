"""SMTP delivery: pooled connections per server, spreading over servers, failover, rate limits,
and the split between transient (retry later) and permanent (give up) failures.

No HTTP here. One Mailer per worker process, built from the configured servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
from redis.asyncio import Redis

CONNECT_TIMEOUT = 10.0
SEND_TIMEOUT = 30.0
SERVER_COOLDOWN_SECONDS = 30.0
HOUR_SECONDS, DAY_SECONDS = 3600, 86400


@dataclass(frozen=True)
class SmtpTarget:
    id: int | None
    name: str
    host: str
    port: int
    tls_mode: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    rate_per_second: int = 0  # 0 = unlimited
    rate_per_hour: int = 0
    rate_per_day: int = 0
    max_connections: int = 5


class TransientFailure(Exception):
    """Try again later: a 4xx reply, or no server could be reached."""


class Throttled(TransientFailure):
    """Every server has used up its hourly or daily budget; try again when one has room."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Do not try again: a 5xx reply. recipient_refused means the address itself was rejected."""

    def __init__(self, message: str, recipient_refused: bool) -> None:
        super().__init__(message)
        self.recipient_refused = recipient_refused


class _ServerDown(Exception):
    """This server cannot be used right now (refused, timed out, authentication failed)."""

    def __init__(self, message: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        super().__init__(message)
        self.seconds = seconds


def smtp_address(address: str) -> tuple[str, bool]:
    """The address as sent in MAIL FROM/RCPT TO, and whether it needs SMTPUTF8: an internationalised
    domain goes as punycode; only a non-ASCII local part needs the extension."""
    local, _, domain = address.rpartition("@")
    with contextlib.suppress(UnicodeError):  # not IDNA-encodable: sent as it is
        domain = domain.encode("idna").decode("ascii")
    address = f"{local}@{domain}"
    return address, not address.isascii()


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


class _RatePerSecond:
    """In-process token bucket; each worker process holds its share of the server's rate."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        if self.rate <= 0:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class _QuotaReached(_ServerDown):
    """The server's hourly or daily budget is spent until the window ends."""


class _HourDayQuota:
    """Messages per hour and per day for one server, counted in Redis so that every worker
    process and host shares the same budget."""

    def __init__(self, redis: Redis, target: SmtpTarget) -> None:
        self.redis = redis
        self.windows = [
            (limit, size, label)
            for limit, size, label in (
                (target.rate_per_hour, HOUR_SECONDS, "hour"),
                (target.rate_per_day, DAY_SECONDS, "day"),
            )
            if limit > 0
        ]
        self.server_id = target.id

    async def take(self) -> None:
        now = time.time()
        for limit, size, label in self.windows:
            window = int(now // size)
            key = f"smtp-quota:{self.server_id}:{label}:{window}"
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, size)
                count, _ = await pipe.execute()
            if count > limit:
                raise _QuotaReached(
                    f"the limit of {limit} messages per {label} is reached", seconds=(window + 1) * size - now
                )


class ServerPool:
    """Up to max_connections open SMTP sessions to one server, reused across messages."""

    def __init__(self, target: SmtpTarget, redis: Redis | None = None) -> None:
        self.target = target
        self.quota = (
            _HourDayQuota(redis, target)
            if redis is not None and (target.rate_per_hour or target.rate_per_day)
            else None
        )
        self.idle: list[aiosmtplib.SMTP] = []
        self.slots = asyncio.Semaphore(max(1, target.max_connections))
        self.rate = _RatePerSecond(target.rate_per_second)
        self.down_until = 0.0
        self.quota_wait = 0.0  # seconds until the hourly/daily budget has room, when it is spent
        self.last_error = ""

    @property
    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def mark_down(self, error: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        self.down_until = time.monotonic() + seconds
        self.last_error = error

    async def _connect(self) -> aiosmtplib.SMTP:
        t = self.target
        client = aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            timeout=CONNECT_TIMEOUT,
            use_tls=t.tls_mode == "tls",
            start_tls=t.tls_mode == "starttls",
        )
        try:
            await client.connect()
            if t.username:
                await client.login(t.username, t.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise _ServerDown(f"authentication failed: {_reply(exc)}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _ServerDown(f"cannot connect to {t.host}:{t.port}: {exc}") from exc
        return client

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        if self.quota is not None:
            await self.quota.take()
        await self.rate.take()
        async with self.slots:
            client = self.idle.pop() if self.idle else await self._connect()
            (sender, sender_utf8), (recipient, recipient_utf8) = smtp_address(sender), smtp_address(recipient)
            options = ["SMTPUTF8"] if sender_utf8 or recipient_utf8 else None
            try:
                await client.sendmail(sender, [recipient], message, mail_options=options, timeout=SEND_TIMEOUT)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self.idle.append(client)
                refusal = exc.recipients[0]
                if 400 <= refusal.code < 500:
                    raise TransientFailure(_reply(refusal)) from exc
                raise PermanentFailure(_reply(refusal), recipient_refused=True) from exc
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code == 421 or not client.is_connected:  # server is closing the session
                    client.close()
                    raise _ServerDown(_reply(exc)) from exc
                await _reset(client)
                self.idle.append(client)
                if 400 <= exc.code < 500:
                    raise TransientFailure(_reply(exc)) from exc
                raise PermanentFailure(_reply(exc), recipient_refused=False) from exc
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                client.close()
                raise _ServerDown(f"{self.target.host}:{self.target.port}: {exc}") from exc
            else:
                self.idle.append(client)

    async def close(self) -> None:
        for client in self.idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        self.idle.clear()


async def _reset(client: aiosmtplib.SMTP) -> None:
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


class Mailer:
    """Sends each message through the next available server in turn; on a server failure, tries
    the next one. Returns the id of the server that accepted the message."""

    def __init__(self, targets: Sequence[SmtpTarget], redis: Redis | None = None) -> None:
        self.pools = [ServerPool(t, redis) for t in targets]
        self._turn = itertools.count()

    async def send(self, sender: str, recipient: str, message: bytes) -> int | None:
        if not self.pools:
            raise TransientFailure("No SMTP server is configured.")
        start = next(self._turn)
        order = [self.pools[(start + i) % len(self.pools)] for i in range(len(self.pools))]
        errors = []
        for pool in sorted(order, key=lambda p: not p.available):  # healthy servers first, in turn
            try:
                await pool.send(sender, recipient, message)
                return pool.target.id
            except _ServerDown as exc:
                pool.mark_down(str(exc), exc.seconds)
                pool.quota_wait = exc.seconds if isinstance(exc, _QuotaReached) else 0.0
                errors.append(f"{pool.target.name}: {exc}")
        if all(pool.quota_wait for pool in order):
            raise Throttled(
                "Every SMTP server has reached its sending limit: " + "; ".join(errors),
                retry_after=min(pool.quota_wait for pool in order),
            )
        raise TransientFailure("No SMTP server accepted the connection: " + "; ".join(errors))

    def take_server_errors(self) -> dict[int, str]:
        """Errors of configured servers since the last call, for admins to see on the SMTP page."""
        errors = {p.target.id: p.last_error for p in self.pools if p.last_error and p.target.id is not None}
        for pool in self.pools:
            pool.last_error = ""
        return errors

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self.pools), return_exceptions=True)
