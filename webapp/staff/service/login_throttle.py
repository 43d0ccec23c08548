"""Failed sign-ins counted per account and per IP in Redis; over the limit, sign-in is refused
for the lockout window whatever the password, with the same message for known and unknown accounts."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from webapp.core.config import SecuritySettings
from webapp.core.errors import TooManyAttempts


def _keys(email: str, ip: str) -> tuple[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"login-fail:account:{account}", f"login-fail:ip:{ip}"


async def check(redis: Redis, settings: SecuritySettings, email: str, ip: str) -> None:
    account_key, ip_key = _keys(email, ip)
    account_failures, ip_failures = await redis.mget(account_key, ip_key)
    over = []
    if int(account_failures or 0) >= settings.login_max_failures_per_account:
        over.append(account_key)
    if int(ip_failures or 0) >= settings.login_max_failures_per_ip:
        over.append(ip_key)
    if over:
        retry_after = max([await redis.ttl(key) for key in over] + [1])
        minutes = max(1, -(-retry_after // 60))
        raise TooManyAttempts(
            f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after,
        )


async def record_failure(redis: Redis, settings: SecuritySettings, email: str, ip: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in _keys(email, ip):
            # SET NX starts the window on the first failure; INCR keeps its TTL (works on Redis 6).
            pipe.set(key, 0, ex=settings.login_lockout_seconds, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def record_success(redis: Redis, email: str, ip: str) -> None:
    await redis.delete(_keys(email, ip)[0])
