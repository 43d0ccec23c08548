"""Abuse guards of the public sign-up forms, counted in Redis so every web process shares them:
sign-ups per IP per window, at most one confirmation email per address per interval, and as few
emails with a link to download one's data."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from webapp.core.config import SubscriptionSettings
from webapp.core.redis import over_limit as count_request


async def over_limit(redis: Redis, settings: SubscriptionSettings, ip: str) -> int | None:
    """Count one sign-up from this IP. Over the limit: the seconds until the window ends; else None."""
    return await count_request(redis, f"subscribe-rate:{ip}", settings.rate_limit, settings.rate_window_seconds)


def _address_key(email: str, kind: str = "subscribe-confirm-mail") -> str:
    return f"{kind}:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def claim_confirmation_email(redis: Redis, settings: SubscriptionSettings, email: str) -> bool:
    """True when a confirmation email may go to this address now (and none may for the interval)."""
    return bool(await redis.set(_address_key(email), "1", nx=True, ex=settings.resend_interval_seconds))


async def confirmation_email_wait(redis: Redis, settings: SubscriptionSettings, email: str) -> int | None:
    """Claim a confirmation email to this address now (None), or the seconds until one may go."""
    return await _claim_or_wait(redis, _address_key(email), settings.resend_interval_seconds)


async def data_email_wait(redis: Redis, settings: SubscriptionSettings, email: str) -> int | None:
    """Claim an email with a link to download one's data to this address now (None), or the seconds until one may go."""
    return await _claim_or_wait(redis, _address_key(email, "my-data-mail"), settings.resend_interval_seconds)


async def _claim_or_wait(redis: Redis, key: str, seconds: int) -> int | None:
    if await redis.set(key, "1", nx=True, ex=seconds):
        return None
    return max(int(await redis.ttl(key)), 1)
