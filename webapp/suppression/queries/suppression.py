"""The suppression list's SQL. Every address is keyed by its hash (EMAIL_HASH_SQL: sha256 of the
lower-cased address, computed in PostgreSQL), so an erased contact's row, whose email is NULL, still
matches the same address typed again in any case.

Inserts are ON CONFLICT (email_hash) DO NOTHING: the first reason an address was suppressed for is
kept (a bounce stays a bounce when someone later adds it by hand), and an erased row never gets its
address written back.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, TextClause, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import rows_changed
from webapp.core.validation import is_valid_id
from webapp.suppression.models import EMAIL_HASH_SQL, Suppression
from webapp.suppression.schemas import Entry

HASH = EMAIL_HASH_SQL.format(":email")
ROWCOUNT = {"preserve_rowcount": True}  # else an INSERT's rowcount is -1

INSERT_ONE = text(f"""
INSERT INTO suppressions (email_hash, email, reason, note, source, created_by)
VALUES ({HASH}, :email, :reason, :note, :source, :created_by)
ON CONFLICT (email_hash) DO NOTHING
RETURNING id
""")

# One statement for any number of addresses; duplicates within the batch collapse to their first
# occurrence, and rows are numbered in the order given (so the newest-first table shows the last on top).
INSERT_MANY = text(f"""
INSERT INTO suppressions (email_hash, email, reason, note, source, created_by)
SELECT h, e, :reason, :note, :source, :created_by
FROM (SELECT DISTINCT ON (h) h, e, n
      FROM (SELECT {EMAIL_HASH_SQL.format("e")} AS h, e, n
            FROM unnest(CAST(:emails AS text[])) WITH ORDINALITY AS u(e, n)) AS given
      ORDER BY h, n) AS firsts
ORDER BY n
ON CONFLICT (email_hash) DO NOTHING
""")

# Hard bounces of one send batch: the deliveries the pipeline has just recorded as bounced.
# bounced_at guards against a late worker whose outcome was not applied (its row was reclaimed).
INSERT_BOUNCED = text(f"""
INSERT INTO suppressions (email_hash, email, reason, note, source)
SELECT DISTINCT ON (h) h, d.email, 'bounce', left(d.error_message, 2000), 'campaign ' || d.campaign_id
FROM (SELECT {EMAIL_HASH_SQL.format("email")} AS h, email, error_message, campaign_id
      FROM deliveries WHERE id = ANY(CAST(:ids AS bigint[])) AND bounced_at IS NOT NULL AND email <> '') AS d
ORDER BY h
ON CONFLICT (email_hash) DO NOTHING
""")

# GDPR erasure: the address survives as its hash only. An existing row keeps its reason; its note is
# cleared when it quotes the address (bounce notes are the server's reply, which often does).
ERASE = text(f"""
INSERT INTO suppressions (email_hash, email, reason, note, source, created_by)
VALUES ({HASH}, NULL, 'compliance', 'Contact erased (GDPR).', 'gdpr', :created_by)
ON CONFLICT (email_hash) DO UPDATE
SET email = NULL,
    note = CASE WHEN strpos(lower(suppressions.note), lower(:email)) > 0 THEN '' ELSE suppressions.note END
RETURNING id
""")


@dataclass(frozen=True)
class SuppressionPage:
    items: list[Suppression]
    next_cursor: str | None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(row: Suppression) -> str:
    key = json.dumps([row.created_at.isoformat(), row.id])
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor stands for; None for anything that is not a cursor we made."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(key, list) and len(key) == 2 and isinstance(key[0], str) and is_valid_id(key[1]):
            return datetime.fromisoformat(key[0]), key[1]
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        pass
    return None


async def insert_one(
    session: AsyncSession, email: str, reason: str, note: str, source: str, created_by: str
) -> int | None:
    """The new row's id, or None when the address was suppressed already."""
    values = {"email": email, "reason": reason, "note": note, "source": source, "created_by": created_by}
    new_id: int | None = await session.scalar(INSERT_ONE, values)
    return new_id


async def insert_many(
    session: AsyncSession, emails: Sequence[str], reason: str, note: str, source: str, created_by: str
) -> int:
    """How many of the addresses were newly suppressed."""
    if not emails:
        return 0
    values = {"emails": list(emails), "reason": reason, "note": note, "source": source, "created_by": created_by}
    return rows_changed(await session.execute(INSERT_MANY, values, execution_options=ROWCOUNT))


async def insert_bounced(session: AsyncSession, delivery_ids: Sequence[int]) -> int:
    """Suppress the addresses of these hard-bounced deliveries, set-based; how many were new."""
    if not delivery_ids:
        return 0
    return rows_changed(await session.execute(INSERT_BOUNCED, {"ids": list(delivery_ids)}, execution_options=ROWCOUNT))


async def erase_address(session: AsyncSession, email: str, created_by: str) -> int:
    """Keep (or create) the address's row as a hash only; returns the row's id."""
    suppression_id: int = (await session.execute(ERASE, {"email": email, "created_by": created_by})).scalar_one()
    return suppression_id


def _hash_matches(email: str) -> TextClause:
    """`email_hash = <hash of email>` for ORM selects (ix: uq_suppressions_email_hash)."""
    return text(f"suppressions.email_hash = {HASH}").bindparams(email=email)


async def by_email(session: AsyncSession, email: str) -> Suppression | None:
    # populate_existing: raw SQL (erasure) may have changed a row this session holds already.
    query = select(Suppression).where(_hash_matches(email)).execution_options(populate_existing=True)
    return await session.scalar(query)


async def by_id(session: AsyncSession, suppression_id: int) -> Suppression | None:
    if not is_valid_id(suppression_id):
        return None
    return await session.scalar(
        select(Suppression).where(Suppression.id == suppression_id).execution_options(populate_existing=True)
    )


async def exists(session: AsyncSession, email: str) -> bool:
    return bool(
        await session.scalar(
            text(f"SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = {HASH})"), {"email": email}
        )
    )


async def suppressed_among(session: AsyncSession, emails: Sequence[str]) -> set[str]:
    """The lower-cased addresses among `emails` that are suppressed, in one query."""
    if not emails:
        return set()
    rows = await session.scalars(
        text(f"""
        SELECT DISTINCT lower(e) FROM unnest(CAST(:emails AS text[])) AS u(e)
        WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = {EMAIL_HASH_SQL.format("e")})"""),
        {"emails": list(emails)},
    )
    return set(rows)


async def entries_among(session: AsyncSession, emails: Sequence[str]) -> dict[str, Entry]:
    """The entries of these addresses, by lower-cased address, in one query."""
    if not emails:
        return {}
    rows = await session.execute(
        text(f"""
        SELECT DISTINCT ON (lower(u.e)) lower(u.e), s.reason, s.created_at
        FROM unnest(CAST(:emails AS text[])) AS u(e)
        JOIN suppressions s ON s.email_hash = {EMAIL_HASH_SQL.format("u.e")}"""),
        {"emails": list(emails)},
    )
    return {email: Entry(reason, since) for email, reason, since in rows}


def search_query(q: str, reason: str, after: tuple[datetime, int] | None, limit: int) -> Select[Suppression]:
    query = select(Suppression)
    if q:
        query = query.where(func.lower(Suppression.email).like(literal(_escape_like(q.lower()) + "%"), escape="\\"))
    if reason:
        query = query.where(Suppression.reason == reason)
    if after is not None:
        query = query.where(tuple_(Suppression.created_at, Suppression.id) < tuple_(*after))
    return query.order_by(Suppression.created_at.desc(), Suppression.id.desc()).limit(limit)


async def find(
    session: AsyncSession, *, q: str = "", reason: str = "", cursor: str | None = None, limit: int = 50
) -> SuppressionPage:
    """Newest first, keyset-paged on (created_at, id) (ix_suppressions_created_at_id). `q` is a prefix
    of the address, case-insensitive (ix_suppressions_email_lower, text_pattern_ops); erased rows have
    no address, so a search never finds them."""
    rows = list(await session.scalars(search_query(q, reason, decode_cursor(cursor), limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return SuppressionPage(rows, encode_cursor(rows[-1]) if more and rows else None)


async def counts_by_reason(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(text("SELECT reason, count(*) FROM suppressions GROUP BY reason"))
    return dict(rows.all())
