"""Where each staff member is signed in, so their account page can list their sessions and end any one.

A session gets a handle at sign-in, kept in its data (HANDLE) and as a field of a Redis hash per
account with what the list shows: when, from which address and browser. Ending a session deletes
its field; from its next request the session signs nobody in. When each session was last active is
a second hash, written at most once a minute per session, and apart so that a late write never
brings an ended session back.

Each entry also keeps the account's password stamp of its sign-in: a new password, or signing out
everywhere else, ends every other session through the stamp (users.principal_for_session), and the
list leaves those sessions out the same way. Sessions signed in before handles existed have none:
they are not listed, and only signing out everywhere else (or a new password) ends them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from redis.asyncio import Redis
from ua_parser import parse

HANDLE = "signed_in"  # the session data's key for its handle
SEEN_EVERY = 60  # seconds between two writes of a session's last activity
MAX_AGENT = 512
SYSTEM_NAMES = {"Mac OS X": "macOS"}  # ua-parser's names that people no longer use

_ENTRIES, _SEEN = "staff:signed-in:{}", "staff:signed-in-seen:{}"
Entry = dict[str, Any]  # when (at), from where (ip, agent), and the password stamp of a sign-in


@dataclass(frozen=True)
class SignedIn:
    handle: str
    browser: str  # "Firefox 133 on Windows"
    ip: str
    signed_in_at: datetime
    active_at: datetime
    current: bool


@lru_cache(maxsize=256)
def describe(agent: str) -> str:
    """A browser and system as people name them, from a user agent."""
    result = parse(agent[:MAX_AGENT])
    browser = result.user_agent.family if result.user_agent and result.user_agent.family != "Other" else ""
    if browser and result.user_agent and result.user_agent.major:
        browser = f"{browser} {result.user_agent.major}"
    system = result.os.family if result.os and result.os.family != "Other" else ""
    system = SYSTEM_NAMES.get(system, system)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "An unknown browser"


def _stamp(password_stamp: str) -> str:
    return password_stamp[:16]


async def open_session(redis: Redis, user_id: int, stamp: str, ip: str, agent: str, max_age: int) -> str:
    """A new session's handle, listed from now on; entries that can no longer be in use are dropped."""
    handle, now = secrets.token_urlsafe(16), time.time()
    entry = {"at": now, "ip": ip[:64], "agent": agent[:MAX_AGENT], "stamp": _stamp(stamp)}
    await _drop_stale(redis, user_id, stamp, max_age)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(_ENTRIES.format(user_id), handle, json.dumps(entry))
        pipe.hset(_SEEN.format(user_id), handle, str(now))
        pipe.expire(_ENTRIES.format(user_id), max_age)
        pipe.expire(_SEEN.format(user_id), max_age)
        await pipe.execute()
    return handle


async def still_open(redis: Redis, user_id: int, handle: str, max_age: int) -> bool:
    """Whether the session was not ended; notes that it is active (at most once a minute)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hexists(_ENTRIES.format(user_id), handle)
        pipe.hget(_SEEN.format(user_id), handle)
        listed, seen = await pipe.execute()
    if not listed:
        return False
    now = time.time()
    if seen is None or now - float(seen) >= SEEN_EVERY:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hset(_SEEN.format(user_id), handle, str(now))
            pipe.expire(_SEEN.format(user_id), max_age)
            pipe.expire(_ENTRIES.format(user_id), max_age)  # a session in use keeps its account's list
            await pipe.execute()
    return True


async def listed(redis: Redis, user_id: int, stamp: str, current: str | None, max_age: int) -> list[SignedIn]:
    """The account's sessions, the current one first, then the most recently active."""
    entries, seen = await _read(redis, user_id)
    now = time.time()
    sessions = [
        SignedIn(
            handle=handle,
            browser=describe(entry["agent"]),
            ip=entry["ip"],
            signed_in_at=datetime.fromtimestamp(entry["at"], UTC),
            active_at=datetime.fromtimestamp(_active_at(entry, seen, handle), UTC),
            current=handle == current,
        )
        for handle, entry in entries.items()
        if _usable(entry, _active_at(entry, seen, handle), stamp, now, max_age)
    ]
    return sorted(sessions, key=lambda s: (not s.current, -s.active_at.timestamp()))


async def end(redis: Redis, user_id: int, handle: str) -> bool:
    """End one session of the account; False when it was not open."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(_ENTRIES.format(user_id), handle)
        pipe.hdel(_SEEN.format(user_id), handle)
        ended, _ = await pipe.execute()
    return bool(ended)


async def restamp(redis: Redis, user_id: int, handle: str, stamp: str) -> None:
    """The session that changed the account's stamp (new password, signed out elsewhere) stays listed."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hget(_ENTRIES.format(user_id), handle)
        (raw,) = await pipe.execute()
    if raw is not None:
        entry = json.loads(raw)
        entry["stamp"] = _stamp(stamp)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hset(_ENTRIES.format(user_id), handle, json.dumps(entry))
            await pipe.execute()


async def _read(redis: Redis, user_id: int) -> tuple[dict[str, Entry], dict[str, float]]:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(_ENTRIES.format(user_id))
        pipe.hgetall(_SEEN.format(user_id))
        raw_entries, raw_seen = await pipe.execute()
    entries = {_text(handle): json.loads(raw) for handle, raw in raw_entries.items()}
    return entries, {_text(handle): float(at) for handle, at in raw_seen.items()}


async def _drop_stale(redis: Redis, user_id: int, stamp: str, max_age: int) -> None:
    entries, seen = await _read(redis, user_id)
    now = time.time()
    stale = [h for h, entry in entries.items() if not _usable(entry, _active_at(entry, seen, h), stamp, now, max_age)]
    stale += [h for h in seen if h not in entries]
    if stale:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hdel(_ENTRIES.format(user_id), *stale)
            pipe.hdel(_SEEN.format(user_id), *stale)
            await pipe.execute()


def _active_at(entry: Entry, seen: dict[str, float], handle: str) -> float:
    return float(seen.get(handle) or entry["at"])


def _usable(entry: Entry, active_at: float, stamp: str, now: float, max_age: int) -> bool:
    """Still able to sign its browser in: same password stamp, and active within the session lifetime."""
    return entry.get("stamp") == _stamp(stamp) and now - active_at < max_age


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
