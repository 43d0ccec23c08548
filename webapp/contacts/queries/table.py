"""Contact listing at millions of rows: keyset pages over any filter, and cheap counts.

A page is `(sort cols) > (cursor key)` in sort order (`<` read backwards for the previous page), with
no OFFSET and no COUNT(*) of the table. page() reads it one of three ways, all with the same cursors:
- walk: the sort index in order, checking the filters on each row until the page is full. Used
  when no filter has an index of its own (none, status, active; company when sorting by company).
- probe: the same walk, given up after a budget of rows. Search, tags, company and list have
  indexes of their own, and their matches can bunch up anywhere in the sort order (a tag given at
  one event two years ago, a list imported in one go), while the planner assumes an even spread
  and would walk past hundreds of thousands of rows for one page.
- gather: every match through the filters' own indexes, then sorted. Costs about one row read per
  match wherever the matches are, and counts them on the way. Used when the planner expects fewer
  than EXACT_BELOW matches, and when probing would read more rows than there are matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, null, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import (
    apply_filter,
    decode_cursor,
    encode_cursor,
    has_own_index,
    sort_columns,
    sort_key,
)
from webapp.contacts.schemas import SORTS, ContactFilter


@dataclass
class ContactPage:
    contacts: list[Contact]
    next_cursor: str | None
    prev_cursor: str | None
    sort: str
    filters: ContactFilter = field(default_factory=ContactFilter)
    # What page() learned about the number of matches, for estimate_count: None when it did not ask.
    count: int | None = None
    count_exact: bool = False


# Sets the planner expects to be smaller than this are read whole: page() gathers them and
# estimate_count() counts them, so their counts are exact (about one row read per match).
EXACT_BELOW = 5_000
# The first probe reads up to 4x the rows an even spread of the matches would need for a page, each
# next one 4x more.
PROBE_GROWTH = 4


@dataclass(frozen=True)
class _Order:
    """One request's sort: its columns, the direction this page reads them in, the cursor's key."""

    sort: str
    descending: bool
    key: list[Any] | None

    def by(self, columns: list[Any]) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in columns]

    def after_key(self, columns: list[Any]) -> Any:
        """Rows past the cursor in reading order (`True` without a cursor)."""
        if self.key is None:
            return true()
        row, key = tuple_(*columns), tuple_(*self.key)
        return row < key if self.descending else row > key

    def labelled(self) -> list[Any]:
        """The sort columns named k0..kn (kn is id), for subqueries whose ORDER BY must survive."""
        return [c.label(f"k{i}") for i, c in enumerate(sort_columns(self.sort))]


async def page(
    session: AsyncSession,
    filters: ContactFilter,
    *,
    sort: str = "newest",
    cursor: str | None = None,
    limit: int = 50,
    gather_below: int = EXACT_BELOW,
) -> ContactPage:
    if sort not in SORTS:
        sort = "newest"
    decoded = decode_cursor(cursor, sort) if cursor else None
    backwards = decoded is not None and decoded[0] == "before"
    # Reading backwards flips both the comparison and the order; the rows are reversed afterwards.
    order = _Order(sort, SORTS[sort][1] != backwards, decoded[1] if decoded else None)
    # One row more than shown tells whether there is a next page.
    rows, count, exact = await _read(session, filters, order, limit + 1, gather_below)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if has_more or backwards:
            next_cursor = encode_cursor("after", sort_key(rows[-1], sort))
        if decoded and (has_more or not backwards):
            prev_cursor = encode_cursor("before", sort_key(rows[0], sort))
    return ContactPage(rows, next_cursor, prev_cursor, sort, filters, count, exact)


async def _read(
    session: AsyncSession, filters: ContactFilter, order: _Order, wanted: int, gather_below: int
) -> tuple[list[Contact], int | None, bool]:
    """Up to `wanted` rows past the cursor, and what was learned of the number of matches:
    (rows, count or None, whether the count is exact)."""
    if not has_own_index(filters, order.sort):
        return await _walk(session, filters, order, wanted), None, False
    planned = await _explain_rows(session, filters)
    if planned < gather_below:
        rows, total = await _gather(session, filters, order, wanted, count=True)
        return rows, total, total is not None
    table = max(await _table_rows(session), planned)
    budget = math.ceil(PROBE_GROWTH * wanted * table / planned)
    probed = await _probe(session, filters, order, wanted, budget)
    # Walk 4x further while that reads fewer rows than gathering every match would.
    while probed is None and budget * PROBE_GROWTH < planned:
        budget *= PROBE_GROWTH
        probed = await _probe(session, filters, order, wanted, budget)
    if probed is not None:
        return probed, planned, False
    # On the first page the cursor narrows nothing, so gathering may as well count.
    rows, total = await _gather(session, filters, order, wanted, count=order.key is None)
    return rows, (planned if total is None else total), total is not None


async def _walk(session: AsyncSession, filters: ContactFilter, order: _Order, wanted: int) -> list[Contact]:
    columns = sort_columns(order.sort)
    query = apply_filter(filters, select(Contact)).where(order.after_key(columns))
    return list(await session.scalars(query.order_by(*order.by(columns)).limit(wanted)))


async def _probe(
    session: AsyncSession, filters: ContactFilter, order: _Order, wanted: int, budget: int
) -> list[Contact] | None:
    """The walk, over at most `budget` rows of the sort index; None when they hold too few matches."""
    # The inner LIMIT keeps the filters out of the subquery (the planner may not push them past it),
    # so the inner query is a plain index range in sort order. The outer query filters those rows as
    # they stream out and stops at a full page; ordering by the inner's own output columns (k0..kn)
    # lets the planner see they come sorted, so no Sort node has to read all `budget` rows first.
    keys = order.labelled()
    walk = select(Contact.__table__, *keys).where(order.after_key(sort_columns(order.sort)))
    inner = walk.order_by(*order.by(sort_columns(order.sort))).limit(budget).subquery("walk")
    row = aliased(Contact, inner)
    query = apply_filter(filters, select(row), row).order_by(*order.by([inner.c[k.name] for k in keys])).limit(wanted)
    rows = list(await session.scalars(query))
    return rows if len(rows) == wanted else None


async def _gather(
    session: AsyncSession, filters: ContactFilter, order: _Order, wanted: int, *, count: bool
) -> tuple[list[Contact], int | None]:
    """Every match's sort key through the filters' indexes, sorted; the page's rows fetched by id.

    With count=True the cursor applies after gathering, so the second value is the number of all
    matches (None for a page past the last match); otherwise the cursor narrows the gathering
    (near the end of a large set, the planner then reads a short range) and nothing is counted.
    """
    gathering = apply_filter(filters, select(*order.labelled()))
    if not count:
        gathering = gathering.where(order.after_key(sort_columns(order.sort)))
    # MATERIALIZED: planned on its own, so through the filters' indexes, never as a sort-index walk.
    matches = gathering.cte("matches").prefix_with("MATERIALIZED")
    keys = list(matches.c)
    top = select(*keys).where(order.after_key(keys)).order_by(*order.by(keys)).limit(wanted).subquery("top")
    total = select(func.count()).select_from(matches).scalar_subquery() if count else null()
    query = (
        select(Contact, total)
        .join(top, Contact.id == top.c[keys[-1].name])
        .order_by(*order.by([top.c[k.name] for k in keys]))
    )
    result = (await session.execute(query)).all()
    rows = [contact for contact, _ in result]
    if not count:
        return rows, None
    if result:
        return rows, result[0][1]
    return rows, (0 if order.key is None else None)  # a cursor past the last match: how many is unknown


async def _table_rows(session: AsyncSession) -> int:
    """The table's row count from its statistics: -1 (never analysed) and 0 come back as 0."""
    return (
        await session.scalar(
            text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'contacts'::regclass")
        )
        or 0
    )


async def _explain_rows(session: AsyncSession, filters: ContactFilter) -> int:
    """How many contacts the planner expects to match (EXPLAIN only, nothing is read)."""
    # The statement compiled for psycopg (%(name)s placeholders) goes to the driver as is, with its
    # parameters bound by the driver: text() would re-parse the placeholders and lose the values.
    connection = await session.connection()
    # render_postcompile: an IN list (a segment's parent list, list conditions) becomes one placeholder per item.
    compiled = apply_filter(filters, select(Contact.id)).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
    return int(result.scalar_one()[0]["Plan"]["Plan Rows"])


async def estimate_count(
    session: AsyncSession, filters: ContactFilter, known: ContactPage | None = None
) -> tuple[int, bool]:
    """(count, exact). What page() learned if `known` is its page and it learned it; else the
    planner's estimate, counted for real when that is small (cheap then)."""
    if known is not None and known.count is not None:
        return known.count, known.count_exact
    if filters.is_empty:
        estimate = await _table_rows(session)
        if not estimate:
            # Never analysed yet (reltuples = -1 or 0): the table is new and small enough to count.
            return await session.scalar(select(func.count()).select_from(Contact)) or 0, True
    else:
        estimate = await _explain_rows(session, filters)
    if estimate < EXACT_BELOW:
        exact = await session.scalar(apply_filter(filters, select(func.count()).select_from(Contact)))
        return exact or 0, True
    return estimate, False
