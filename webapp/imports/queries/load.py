"""The import loader's SQL, set-based: each chunk of valid rows is COPYed into a temporary staging
table, then one statement per mode moves it into contacts, list_members or suppressions.

Used with plain psycopg connections (service/loader.py): COPY needs the driver's own API. Column
names come from the fixed list in service/rows.STAGE_COLUMNS, never from a file. Rows are already
unique by Python's lower() of the address when they get here (later repeats are left out).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from psycopg import sql

from webapp.contacts.models import PROFILE_FIELDS
from webapp.imports.queries.runs import Connection, Cursor
from webapp.suppression.models import EMAIL_HASH_SQL, KEPT_STATUS_SQL

# ---- staging a chunk ---------------------------------------------------------------------------

CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS import_stage (
  line integer NOT NULL, email text NOT NULL,
  first_name text, last_name text, phone text, company text, job_title text, location text,
  tags text, custom_fields text, language text
) ON COMMIT DELETE ROWS
"""
COPY_REJECTS = "COPY import_rejects (job_id, line, kind, email, reason, cells) FROM STDIN"


def create_stage(conn: Connection) -> None:
    conn.execute(CREATE_STAGE)


def stage(cur: Cursor, columns: Iterable[str], rows: bytes) -> None:
    """Load a chunk's rows (COPY text: line, then `columns`, names from rows.STAGE_COLUMNS; the
    others stay NULL) into import_stage."""
    names = sql.SQL(", ").join(sql.Identifier(name) for name in ("line", *columns))
    with cur.copy(sql.SQL("COPY import_stage ({}) FROM STDIN").format(names)) as copy:
        copy.write(rows)


def save_rejects(cur: Cursor, job_id: int, rejects: Iterable[tuple[Any, ...]]) -> None:
    """The rows not imported: (line, kind, email, reason, cells as JSON) each."""
    with cur.copy(COPY_REJECTS) as copy:
        for reject in rejects:
            copy.write_row((job_id, *reject))


# ---- the staged rows into contacts -------------------------------------------------------------

# What a staged column becomes in contacts (NULL = the column was not mapped; '' = an empty cell).
_VALUE = {
    **dict.fromkeys(PROFILE_FIELDS, "coalesce(s.{0}, '')"),
    "language": "coalesce(s.{0}, '')",
    "tags": "coalesce(string_to_array(nullif(s.{0}, ''), ','), '{{}}')",
    "custom_fields": "coalesce(s.{0}::jsonb, '{{}}')",
}
# On update: an empty cell keeps what the contact has; tags are added to the contact's (first
# occurrence order kept); custom fields are merged, the file's value winning.
_UPDATE = {
    **dict.fromkeys(PROFILE_FIELDS, "CASE WHEN EXCLUDED.{0} = '' THEN c.{0} ELSE EXCLUDED.{0} END"),
    "language": "CASE WHEN EXCLUDED.{0} = '' THEN c.{0} ELSE EXCLUDED.{0} END",
    "tags": (
        "ARRAY(SELECT t FROM unnest(c.tags || EXCLUDED.tags) WITH ORDINALITY AS u(t, n) GROUP BY t ORDER BY min(n))"
    ),
    "custom_fields": "c.custom_fields || EXCLUDED.custom_fields",
}


def _columns(mapped: Collection[str]) -> list[str]:
    return [name for name in _VALUE if name in mapped]


def insert_contacts(mapped: Collection[str], *, update: bool) -> sql.Composed:
    """Add the staged rows as contacts (an address that opted out before comes back opted out, see
    KEPT_STATUS_SQL). Without update, existing addresses are left alone; with it, they are updated
    where something changed (their status never). Returns one row per contact written: its id,
    whether it was inserted, its tags."""
    columns = _columns(mapped)
    names = sql.SQL(", ").join(sql.Identifier(name) for name in ["email", "status", *columns])
    values = sql.SQL(", ").join(
        [
            sql.SQL("s.email"),
            sql.SQL(KEPT_STATUS_SQL.format("s.email")),
            *(sql.SQL(_VALUE[name].format(name)) for name in columns),
        ]
    )
    if not update or not columns:
        return sql.SQL(
            "INSERT INTO contacts AS c ({names}) SELECT {values} FROM import_stage s "
            "ON CONFLICT (lower(email)) DO NOTHING RETURNING c.id, true, c.tags"
        ).format(names=names, values=values)
    # The first row of each address by PostgreSQL's lower(), which merges a few that Python's does not
    # ("İ"): an update may not meet the same contact twice in one statement. The others are skipped.
    statement = sql.SQL(
        "INSERT INTO contacts AS c ({names}) SELECT DISTINCT ON (lower(s.email)) {values} FROM import_stage s "
        "ORDER BY lower(s.email), s.line ON CONFLICT (lower(email)) "
    ).format(names=names, values=values)
    new = [sql.SQL(_UPDATE[name].format(name)) for name in columns]
    old = sql.SQL(", ").join(sql.SQL("c.") + sql.Identifier(name) for name in columns)
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), value) for name, value in zip(columns, new, strict=True)
    )
    return statement + sql.SQL(
        "DO UPDATE SET {sets}, last_updated = now() WHERE ({old}, 0) IS DISTINCT FROM ({new}, 0) "
        "RETURNING c.id, (c.xmax = 0), c.tags"  # xmax is 0 on a row this statement inserted
    ).format(sets=sets, old=old, new=sql.SQL(", ").join(new))


ContactsStatement = sql.Composed  # a write_contacts_statement


# Staged rows whose tags, added to their contact's, would give it more than %(most)s: taken out of the
# stage, with the count they would give (the cheap sum first, the distinct count only past it).
TAKE_OVER_TAG_LIMIT = """
WITH over AS (
  SELECT s.line, s.email, merged.tags
  FROM import_stage s JOIN contacts c ON lower(c.email) = lower(s.email)
  CROSS JOIN LATERAL (
    SELECT count(DISTINCT t) AS tags FROM unnest(c.tags || string_to_array(s.tags, ',')) AS t
  ) merged
  WHERE s.tags <> '' AND cardinality(c.tags) + cardinality(string_to_array(s.tags, ',')) > %(most)s
    AND merged.tags > %(most)s
)
DELETE FROM import_stage s USING over WHERE s.line = over.line
RETURNING over.line, over.email, over.tags
"""


def take_over_tag_limit(cur: Cursor, most: int) -> list[tuple[int, str, int]]:
    """Take out the staged rows that would give their contact more than `most` tags: (line, email,
    tags it would have) each."""
    return [
        (int(line), str(email), int(tags)) for line, email, tags in cur.execute(TAKE_OVER_TAG_LIMIT, {"most": most})
    ]


# The tags each written contact did not have before (`before` reads the contacts as they were:
# every CTE sees the statement's starting snapshot), queued for automations' tag_added triggers.
TAGS_ADDED = """
, before AS (
  SELECT c.id, c.tags FROM contacts c JOIN import_stage s ON lower(c.email) = lower(s.email)
), added AS (
  SELECT t.tag, array_agg(w.id ORDER BY w.id) AS ids
  FROM w LEFT JOIN before b ON b.id = w.id CROSS JOIN LATERAL unnest(w.tags) AS t(tag)
  WHERE b.id IS NULL OR NOT t.tag = ANY(b.tags)
  GROUP BY t.tag
), signalled AS (
  INSERT INTO automation_signals (kind, params, contact_ids)
  SELECT 'tag_added', jsonb_build_object('tag', tag), ids FROM added ORDER BY tag
)"""
# Without updates every written contact is new, so all its tags were added: no need to look up what
# the contacts had before (a join with the whole contacts table, chunk after chunk).
TAGS_OF_NEW = """
, added AS (
  SELECT t.tag, array_agg(w.id ORDER BY w.id) AS ids FROM w CROSS JOIN LATERAL unnest(w.tags) AS t(tag) GROUP BY t.tag
), signalled AS (
  INSERT INTO automation_signals (kind, params, contact_ids)
  SELECT 'tag_added', jsonb_build_object('tag', tag), ids FROM added ORDER BY tag
)"""


def write_contacts_statement(mapped: Collection[str], *, update: bool) -> ContactsStatement:
    """insert_contacts, counted: one row of (inserted, updated), the tags it added queued for the
    automations they trigger. Built once per run."""
    tags = sql.SQL("" if "tags" not in mapped else TAGS_ADDED if update else TAGS_OF_NEW)
    return sql.SQL(
        "WITH w(id, inserted, tags) AS ({}){} "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w"
    ).format(insert_contacts(mapped, update=update), tags)


def write_contacts(cur: Cursor, statement: ContactsStatement) -> tuple[int, int]:
    """Run a write_contacts_statement on the staged rows: (inserted, updated)."""
    inserted, updated = _aggregate(cur.execute(statement))
    return inserted, updated


def _count(cur: Cursor, statement: str, params: dict[str, Any] | None = None) -> int:
    return int(_aggregate(cur.execute(statement, params))[0])


def _aggregate(cur: Cursor) -> tuple[Any, ...]:
    """The one row of an aggregate (count(*) answers even when nothing matched)."""
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("an aggregate returned no row")
    return row


# ---- the staged rows, for the other modes ------------------------------------------------------

# Static list: every staged address joins the list (new contacts were inserted just before), with
# a consent record saying it came from an import, and the joiners queued for automations'
# list_joined triggers. Returns how many were not on the list before.
ADD_TO_LIST = """
WITH added AS (
  INSERT INTO list_members (list_id, contact_id)
  SELECT %(list_id)s, c.id FROM import_stage s JOIN contacts c ON lower(c.email) = lower(s.email)
  ON CONFLICT DO NOTHING
  RETURNING contact_id
), consent AS (
  INSERT INTO subscriptions (contact_id, list_id, status, source, confirmed_at)
  SELECT contact_id, %(list_id)s, 'confirmed', %(source)s, now() FROM added
  ON CONFLICT (contact_id, list_id) DO NOTHING
), signalled AS (
  INSERT INTO automation_signals (kind, params, contact_ids)
  SELECT 'list_joined', jsonb_build_object('list_id', %(list_id)s), array_agg(contact_id ORDER BY contact_id)
  FROM added HAVING count(*) > 0
)
SELECT count(*) FROM added
"""


def add_to_list(cur: Cursor, list_id: int | None, source: str) -> int:
    return _count(cur, ADD_TO_LIST, {"list_id": list_id, "source": source})


# Bounced and complained contacts stay as they are: that status says more than "unsubscribed".
# Every listed address also goes on the suppression list (one already there keeps its first entry),
# so the opt-out outlives its contact and holds for an address that is no contact yet.
UNSUBSCRIBE = f"""
WITH changed AS (
  UPDATE contacts c SET status = 'unsubscribed', last_updated = now()
  FROM import_stage s
  WHERE lower(c.email) = lower(s.email) AND c.status IN ('active', 'pending')
  RETURNING c.id
), kept AS (
  INSERT INTO suppressions (email_hash, email, reason, note, source, created_by)
  SELECT {EMAIL_HASH_SQL.format("s.email")}, s.email, 'unsubscribe', '', %(source)s, %(created_by)s
  FROM import_stage s ORDER BY s.line
  ON CONFLICT (email_hash) DO NOTHING
)
SELECT count(*) FROM changed
"""


def unsubscribe(cur: Cursor, source: str, created_by: str) -> int:
    """Unsubscribe the staged addresses; how many contacts changed."""
    return _count(cur, UNSUBSCRIBE, {"source": source, "created_by": created_by})


# An address suppressed already keeps its first entry (see suppression/queries.py).
SUPPRESS = f"""
WITH added AS (
  INSERT INTO suppressions (email_hash, email, reason, note, source, created_by)
  SELECT {EMAIL_HASH_SQL.format("s.email")}, s.email, %(reason)s, '', %(source)s, %(created_by)s
  FROM import_stage s ORDER BY s.line
  ON CONFLICT (email_hash) DO NOTHING
  RETURNING id
)
SELECT count(*) FROM added
"""


def suppress(cur: Cursor, reason: str, source: str, created_by: str) -> int:
    return _count(cur, SUPPRESS, {"reason": reason, "source": source, "created_by": created_by})
