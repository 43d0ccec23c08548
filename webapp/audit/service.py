"""The audit log: who changed what, and every sign-in and failed try, for admins to see who did what
(Settings → Audit log). Changes come from the audit trail middleware
(core/audit_trail.py), sign-ins from the sign-in pages. Events are kept a year."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.audit import queries
from webapp.audit.models import ACTOR_LENGTH, PATH_LENGTH
from webapp.audit.queries import Account, AuditPage
from webapp.core.access import Principal
from webapp.core.changes import Change
from webapp.core.db import get_sessionmaker

PAGE_SIZE = 50
KEPT = timedelta(days=365)
SIGN_IN_AREA = "sign-in"


class Action:
    """The actions recorded by name rather than by route."""

    SIGNED_IN = "signed in"
    SIGN_IN_REFUSED = "sign-in refused"  # a wrong password, an inactive account, or too many tries
    CODE_REFUSED = "two-step code refused"
    PASSWORD_RESET = "password reset by email link"


def actor(principal: Principal) -> str:
    """api:<key name>, or the person with their address: a name is the person's own to choose, so
    alone it could pass for a key's or another person's."""
    return f"api:{principal.name}" if principal.via_api_key else person(principal.name, principal.email)


def person(name: str, email: str) -> str:
    return name if not email or name == email else f"{name} <{email}>"


def area(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    return parts[0][:50] if parts else ""


async def record_change(change: Change) -> None:
    """From the audit trail middleware, after the response: in a transaction of its own."""
    principal = change.principal
    values = {
        "actor": actor(principal)[:ACTOR_LENGTH],
        "user_id": None if principal.via_api_key else principal.id,
        "api_key_id": principal.id if principal.via_api_key else None,
        "role": principal.role.value,
        "action": f"{change.method} {change.route}"[:200],
        "path": change.path[:PATH_LENGTH],
        "area": area(change.path),
        "status": change.status,
        "ip": change.ip[:64],
    }
    async with get_sessionmaker()() as session, session.begin():
        await queries.add(session, values)


async def record_access(
    session: AsyncSession,
    action: str,
    who: str,
    ip: str,
    *,
    user_id: int | None = None,
    role: str = "",
    status: int = 303,
) -> None:
    """A sign-in, a refused try or a password reset, in the caller's transaction. `who` is the
    account's name, or the address typed at a refused sign-in (user_id: whose account it is, if
    anyone's); `status`, what the page answered (a refused try's 400, or 429 once locked out)."""
    await queries.add(
        session,
        {
            "actor": who[:ACTOR_LENGTH],
            "user_id": user_id,
            "role": role,
            "action": action,
            "path": "/login",
            "area": SIGN_IN_AREA,
            "status": status,
            "ip": ip[:64],
        },
    )


ACCOUNT = re.compile(r"(user|key):([1-9][0-9]{0,18})")


async def page(
    session: AsyncSession,
    *,
    account: str | None = None,
    area: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """Newest first; only one account's or key's (`user:<id>`, `key:<id>`: whatever it was named
    then), or one area's, when asked. Anything else as `account` filters nothing."""
    found = ACCOUNT.fullmatch(account or "")
    user_id = int(found[2]) if found and found[1] == "user" else None
    api_key_id = int(found[2]) if found and found[1] == "key" else None
    return await queries.newest(
        session, user_id=user_id, api_key_id=api_key_id, area=area or None, limit=limit, cursor=cursor
    )


async def choices(session: AsyncSession) -> tuple[list[Account], list[str]]:
    """The accounts and keys, and the areas the log holds events of (the filters' options)."""
    return await queries.accounts(session), await queries.areas(session)


async def prune(session: AsyncSession, now: datetime) -> int:
    """Forget events older than a year; how many."""
    return await queries.prune(session, now - KEPT)
