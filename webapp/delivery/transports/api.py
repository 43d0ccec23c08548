"""An API provider as a transport: its limits (shared in Redis like an SMTP server's), the
micro-batching that collects messages sent at the same time into one request of up to the
provider's batch size, at most max_connections requests at once, and how HTTP failures map onto
the Mailer's outcomes.

A request that could not be sent (no connection) leaves the messages to another transport; one
that broke after it was sent is in doubt: the provider may have taken the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from redis.asyncio import Redis

from webapp.core.addresses import RefusedAddress
from webapp.core.checked_http import checked_client
from webapp.core.connect_errors import connect_failure
from webapp.delivery.mailer import Handover, InDoubt, PermanentFailure, Retired, Stopped, TransientFailure
from webapp.delivery.rates import HourDayQuota, PerSecond, QuotaReached
from webapp.delivery.smtp_session import QuotaSpent, ServerDown
from webapp.delivery.transports.base import Availability, TransportRef
from webapp.providers.service import REFUSED

# Messages that arrive within this long of the first one waiting go in the same request.
BATCH_WINDOW_SECONDS = 0.05
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
THROTTLED_SECONDS = 60.0  # when a 429 says not how long to wait
MAX_ERROR_TEXT = 300  # of a provider's reply, quoted in an error
# Nothing of the request reached the provider: another transport may send the messages.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)

# Per message: the provider's id of it when it took it ("" if its reply named none), else why not.
Result = Exception | str


@dataclass(frozen=True)
class ProviderTarget:
    """A configured provider as the send engine uses it (credentials decrypted)."""

    id: int
    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    batch_size: int = 50
    rate_per_second: int = 0
    rate_per_hour: int = 0
    rate_per_day: int = 0
    max_connections: int = 4
    priority: int = 0

    @property
    def allow_private(self) -> bool:
        """Its API address may be on a private network (the admin ticked "Allow a private address")."""
        return bool(self.settings.get("allow_private"))


@dataclass(frozen=True)
class Outgoing:
    sender: str  # the envelope sender (bounce address)
    recipient: str
    message: bytes  # the complete MIME message


class ApiClient(Protocol):
    """One provider kind's API: how a batch is sent and what its reply means."""

    max_batch: int  # the API's own limit of messages per request

    async def send(self, http: httpx.AsyncClient, batch: Sequence[Outgoing]) -> list[Result]:
        """One result per message, in order; raises for the whole request (ServerDown, QuotaSpent,
        InDoubt, PermanentFailure)."""
        ...

    async def check(self, http: httpx.AsyncClient) -> str:
        """An authenticated call that sends nothing; what it showed, or ServerDown saying what is wrong."""
        ...


async def call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The provider's reply; ServerDown when the request could not go (nor may: its address is
    refused), InDoubt when it broke after."""
    try:
        return await http.request(method, url, **kwargs)
    except RefusedAddress as exc:
        raise ServerDown(str(exc)) from None
    except NOT_SENT as exc:
        host = httpx.URL(url).host
        raise ServerDown(connect_failure(exc, host) or f"Cannot reach {host} ({exc.__class__.__name__}).") from exc
    except httpx.TransportError as exc:
        raise InDoubt(f"{httpx.URL(url).host}: the request broke off after it was sent: {exc!r}") from exc


def reply_field(response: httpx.Response, name: str) -> str:
    """A field of a JSON reply as text, "" when absent: a taken message stays taken whatever else
    its reply holds."""
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def reply_text(response: httpx.Response) -> str:
    return f"{response.status_code} {body_text(response)}".strip()


def body_text(response: httpx.Response) -> str:
    """A reply's body to quote in an error: an HTML page (a proxy's, or a wrong address's 404) is
    only its status's name, not its markup."""
    text = response.text.strip()
    if "html" in response.headers.get("content-type", "") or text[:1] == "<":
        return response.reason_phrase + " (an HTML page: is the API address right?)"
    return text[:MAX_ERROR_TEXT]


def retry_after(response: httpx.Response) -> float:
    """Seconds the provider asks to wait: Retry-After (seconds or a date), X-RateLimit-Reset (epoch)."""
    value = response.headers.get("retry-after", "")
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):  # not a date either: the next header, or the default
        return max(1.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    reset = response.headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return max(1.0, int(reset) - time.time())
    return THROTTLED_SECONDS


def request_failure(response: httpx.Response, name: str) -> Exception:
    """What an error status means for every message of the request: throttled, the provider unusable
    now (credentials, its own fault), or a refusal of the request itself."""
    text = f"{name}: {reply_text(response)}"
    if response.status_code == 429:
        return QuotaSpent(f"{name} is throttling: {reply_text(response)}", retry_after(response))
    if response.status_code in (401, 403):
        return ServerDown(f"{name}: authentication failed: {reply_text(response)}")
    if response.status_code >= 500:
        return ServerDown(text)
    return PermanentFailure(text, mailbox_refused=False)


class ApiTransport(Availability):
    """Sends through one provider's API (see the module's docstring)."""

    def __init__(self, target: ProviderTarget, client: ApiClient, redis: Redis, current: Callable[[], bool]) -> None:
        super().__init__()
        self.target = target
        self.client = client
        self.ref = TransportRef("provider", target.id, target.name)
        self.current = current
        key = self.ref.key
        self.quota = HourDayQuota(redis, key, target.rate_per_hour, target.rate_per_day)
        self.rate = PerSecond(redis, key, target.rate_per_second)
        self.batcher = MicroBatcher(
            max(1, min(target.batch_size, client.max_batch)), max(1, target.max_connections), self._post
        )
        self._http: httpx.AsyncClient | None = None
        self._closing: asyncio.Task[None] | None = None

    @property
    def priority(self) -> int:
        return self.target.priority

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = checked_client(allow_private=self.target.allow_private, refused=REFUSED, timeout=TIMEOUT)
        return self._http

    async def send(self, sender: str, recipient: str, message: bytes, hand: Handover | None = None) -> str:
        """The provider's id of the message once it took it."""
        try:
            await self.quota.take()
        except QuotaReached as exc:
            raise QuotaSpent(str(exc), exc.seconds) from exc
        if self.retired or not self.current():
            raise Retired("the providers were changed")
        await self.rate.take()
        if hand is not None:
            if not hand.may_go():
                raise Stopped
            hand.handed = True
            if hand.before_data is not None and not await hand.before_data():
                raise Stopped
        return await self.batcher.submit(Outgoing(sender, recipient, message))

    async def _post(self, batch: Sequence[Outgoing]) -> list[Result]:
        return await self.client.send(self.http(), batch)

    def retire(self) -> None:
        """No new message goes through this transport; its client closes once its batches are answered."""
        self.retired = True
        with contextlib.suppress(RuntimeError):  # no running loop: nothing was sent, nothing to close
            self._closing = asyncio.get_running_loop().create_task(self.close())

    async def close(self) -> None:
        await self.batcher.drain()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class MicroBatcher:
    """Collects messages submitted at about the same time into batches of up to `size`, and posts
    each batch (at most `slots` at once); each submitter gets its own message's result."""

    def __init__(self, size: int, slots: int, post: Callable[[Sequence[Outgoing]], Awaitable[list[Result]]]) -> None:
        self.size = size
        self.slots = asyncio.Semaphore(slots)
        self.post = post
        self.waiting: list[tuple[Outgoing, asyncio.Future[str]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.posting: set[asyncio.Task[None]] = set()

    async def submit(self, item: Outgoing) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self.waiting.append((item, future))
        if len(self.waiting) >= self.size:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(BATCH_WINDOW_SECONDS, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        while self.waiting:
            batch, self.waiting = self.waiting[: self.size], self.waiting[self.size :]
            task = asyncio.ensure_future(self._post(batch))
            self.posting.add(task)
            task.add_done_callback(self.posting.discard)

    async def _post(self, batch: list[tuple[Outgoing, asyncio.Future[str]]]) -> None:
        async with self.slots:
            results = await self._results([item for item, _ in batch])
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _results(self, items: list[Outgoing]) -> list[Result]:
        try:
            results = await self.post(items)
        except (ServerDown, TransientFailure, PermanentFailure, InDoubt) as exc:
            return [exc] * len(items)
        except Exception as exc:  # the request went: an unreadable reply may still mean it was taken
            return [InDoubt(f"the provider's reply could not be read: {exc!r}")] * len(items)
        if len(results) != len(items):
            return [InDoubt(f"the provider answered for {len(results)} of {len(items)} messages")] * len(items)
        return results

    async def drain(self) -> None:
        self._flush()
        if self.posting:
            await asyncio.gather(*self.posting, return_exceptions=True)
