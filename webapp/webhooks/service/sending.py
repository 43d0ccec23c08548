"""Sending due webhook deliveries: each is one signed POST to the checked address, with a short
timeout and no redirects followed; failures are retried with exponential backoff for a day, and an
endpoint that keeps failing is switched off.

The signature (core/webhook_signature.py) is documented in the README."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import secret_box
from webapp.core.addresses import RefusedAddress
from webapp.core.db import get_sessionmaker
from webapp.core.webhook_signature import sign
from webapp.webhooks import queries
from webapp.webhooks.queries import Attempt, Due
from webapp.webhooks.service.addresses import check

BATCH_SIZE = 100
CONCURRENCY = 10  # requests in flight per worker
TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 60  # a claimed delivery not recorded by then (its worker died) is due again
RETRY_BASE_SECONDS = 30  # 30 s, 1 min, 2 min, ... at most MAX_RETRY_SECONDS apart
MAX_RETRY_SECONDS = 4 * 3600
RETRY_FOR_HOURS = 24  # after that a delivery is given up, and an endpoint that only failed is switched off
DISABLE_AFTER_FAILURES = 20  # deliveries failing in a row that switch an endpoint off
MAX_BODY_KEPT = 1000  # characters of the receiver's answer kept in the log
USER_AGENT = "Mailroom-Webhooks/1"
LOG_DAYS = 30  # finished deliveries are kept this long in the endpoints' logs
PRUNE_CHUNK = 10_000


def payload(due: Due) -> bytes:
    return msgspec.json.encode(
        {"id": str(due.event_id), "type": due.event_type, "created_at": due.occurred_at, "data": due.data}
    )


def retry_seconds(due: Due) -> int | None:
    """The wait before the next attempt, or None once retrying would pass RETRY_FOR_HOURS."""
    wait = min(RETRY_BASE_SECONDS * 2 ** (due.attempts - 1), MAX_RETRY_SECONDS)
    if time.time() + wait > due.created_at.timestamp() + RETRY_FOR_HOURS * 3600:
        return None
    return int(wait)


async def _read_some(response: httpx.Response) -> str:
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= MAX_BODY_KEPT * 4:
            break
    return kept.decode("utf-8", "replace")[:MAX_BODY_KEPT]


def _secrets(due: Due) -> list[str]:
    """The endpoint's secret, then the one it replaced while that still signs (README: rotation)."""
    kept = (due.secret_encrypted, due.previous_secret_encrypted)
    return [secret_box.decrypt(secret) for secret in kept if secret is not None]


async def _post(client: httpx.AsyncClient, due: Due) -> Attempt:
    started = time.monotonic()
    code: int | None = None
    body, error = "", ""
    try:
        target = await check(due.url, allow_private=due.allow_private)
        content = payload(due)
        timestamp = int(time.time())
        headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Mailroom-Event-Id": str(due.event_id),
            "Mailroom-Event-Type": due.event_type,
            "Mailroom-Timestamp": str(timestamp),
            "Mailroom-Signature": " ".join(sign(secret, timestamp, content) for secret in _secrets(due)),
        }
        request = client.build_request(
            "POST", target.connect_url, content=content, headers=headers, extensions={"sni_hostname": target.host}
        )
        async with asyncio.timeout(TIMEOUT_SECONDS):
            response = await client.send(request, stream=True)
            try:
                code = response.status_code
                body = await _read_some(response)
            finally:
                await response.aclose()
        if not 200 <= code < 300:
            error = f"The endpoint answered {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except RefusedAddress as exc:
        error = str(exc)
    except TimeoutError:
        error = f"No answer within {TIMEOUT_SECONDS:.0f} s."
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    ok = not error
    return Attempt(
        delivery_id=due.id,
        endpoint_id=due.endpoint_id,
        ok=ok,
        response_code=code,
        duration_ms=int((time.monotonic() - started) * 1000),
        response_body=body,
        error=error,
        retry_seconds=None if ok else retry_seconds(due),
    )


async def post_all(batch: Sequence[Due]) -> list[Attempt]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(due: Due) -> Attempt:
        async with limit:
            return await _post(client, due)

    # trust_env=False: no proxy from the environment may carry a request to where the check did not look.
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=TIMEOUT_SECONDS) as client:
        return list(await asyncio.gather(*(one(due) for due in batch)))


async def deliver_due(limit: int = BATCH_SIZE) -> int:
    """Claim, send and record one batch of due deliveries; how many were attempted. The claim is
    committed before any request, so no database transaction waits on a receiver."""
    sessions = get_sessionmaker()
    async with sessions() as session:
        batch = await queries.claim_due(session, limit, LEASE_SECONDS)
        await session.commit()
    if not batch:
        return 0
    attempts = await post_all(batch)
    async with sessions() as session:
        await queries.record(session, attempts, max_failures=DISABLE_AFTER_FAILURES, max_hours=RETRY_FOR_HOURS)
        await session.commit()
    return len(batch)


async def any_due(session: AsyncSession) -> bool:
    return await queries.any_due(session)


async def prune_log() -> None:
    """Drop finished deliveries older than LOG_DAYS (pending ones stay until they are done)."""
    async with get_sessionmaker()() as session:
        while await queries.prune(session, LOG_DAYS, PRUNE_CHUNK) == PRUNE_CHUNK:
            await session.commit()
        await session.commit()
