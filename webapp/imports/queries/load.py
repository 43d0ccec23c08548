"""The import loader's SQL, set-based: each chunk of valid rows is COPYed into a temporary staging
table, then one statement per mode moves it into contacts, list_members or suppressions.

Used with a plain psycopg connection (webapp/services/import_loader.py): COPY needs the driver's
own API. Column names come from the fixed list in import_rows.STAGE_COLUMNS, never from a file.
Rows are already unique by lower(email) when they get here (the loader drops later duplicates),
so ON CONFLICT DO UPDATE never meets the same contact twice in one statement.
"""

from __future__ import annotations

from collections.abc import Collection

from psycopg import sql

from webapp.contacts.models import PROFILE_FIELDS
from webapp.suppression.models import EMAIL_HASH_SQL

STAGE = "import_stage"

CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS import_stage (
  line integer NOT NULL, email text NOT NULL,
  first_name text, last_name text, phone text, company text, job_title text, location text,
  tags text, custom_fields text, language text
) ON COMMIT DELETE ROWS
"""

# The repeat check, on the reader's connection: every address of the file so far with the line it
# first appeared on, and one chunk's addresses at a time. Both live as long as that connection.
CREATE_SEEN = "CREATE TEMP TABLE IF NOT EXISTS import_seen (key text PRIMARY KEY, line integer NOT NULL)"
CREATE_KEYS = (
    "CREATE TEMP TABLE IF NOT EXISTS import_keys (line integer NOT NULL, email text NOT NULL) ON COMMIT DELETE ROWS"
)
COPY_KEYS = "COPY import_keys (line, email) FROM STDIN"

# Remember a chunk's addresses (one index probe each) and return the lines whose address an earlier
# chunk had, with that first line. The chunk itself holds no repeats (the reader drops them) unless
# PostgreSQL's lower() merges two addresses Python's did not; then the first line wins and the
# other comes back with no line (the subquery does not see rows this statement inserted).
KEEP_FIRST = """
WITH firsts AS (
  INSERT INTO import_seen (key, line) SELECT lower(email), line FROM import_keys ORDER BY line
  ON CONFLICT (key) DO NOTHING
  RETURNING line
)
SELECT k.line, (SELECT x.line FROM import_seen x WHERE x.key = lower(k.email))
FROM import_keys k WHERE NOT EXISTS (SELECT 1 FROM firsts f WHERE f.line = k.line)
"""

COPY_STAGE = (
    "COPY import_stage (line, email, first_name, last_name, phone, company, job_title, location, "
    "tags, custom_fields, language) FROM STDIN"
)
COPY_REJECTS = "COPY import_rejects (job_id, line, kind, email, reason, cells) FROM STDIN"

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
    """Add the staged rows as contacts. Without update, existing addresses are left alone; with it,
    they are updated where something changed. Returns one row per contact written: inserted?"""
    columns = _columns(mapped)
    names = sql.SQL(", ").join(sql.Identifier(name) for name in ["email", *columns])
    values = sql.SQL(", ").join([sql.SQL("s.email"), *(sql.SQL(_VALUE[name].format(name)) for name in columns)])
    statement = sql.SQL(
        "INSERT INTO contacts AS c ({names}) SELECT {values} FROM import_stage s ON CONFLICT (lower(email)) "
    ).format(names=names, values=values)
    if not update or not columns:
        return statement + sql.SQL("DO NOTHING RETURNING true")
    new = [sql.SQL(_UPDATE[name].format(name)) for name in columns]
    old = sql.SQL(", ").join(sql.SQL("c.") + sql.Identifier(name) for name in columns)
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), value) for name, value in zip(columns, new, strict=True)
    )
    return statement + sql.SQL(
        "DO UPDATE SET {sets}, last_updated = now() WHERE ({old}, 0) IS DISTINCT FROM ({new}, 0) "
        "RETURNING (c.xmax = 0)"  # xmax is 0 on a row this statement inserted
    ).format(sets=sets, old=old, new=sql.SQL(", ").join(new))


def count_written(statement: sql.Composable) -> sql.Composed:
    """(inserted, updated) from a statement returning one boolean per row: inserted or not."""
    return sql.SQL(
        "WITH w(inserted) AS ({}) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w"
    ).format(statement)


# Static list: every staged address joins the list (new contacts were inserted just before), with
# a consent record saying it came from an import. Returns how many were not on the list before.
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
)
SELECT count(*) FROM added
"""

# Bounced and complained contacts stay as they are: that status says more than "unsubscribed".
UNSUBSCRIBE = """
WITH changed AS (
  UPDATE contacts c SET status = 'unsubscribed', last_updated = now()
  FROM import_stage s
  WHERE lower(c.email) = lower(s.email) AND c.status IN ('active', 'pending')
  RETURNING c.id
)
SELECT count(*) FROM changed
"""

# An address suppressed already keeps its first entry (see queries/suppression.py).
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

# The loader's own session: each chunk's commit need not wait for the WAL flush (a crash loses at
# most the last chunks, job checkpoint included, and the rerun loads them again), and GIN index
# maintenance (tags, search, custom fields) merges its pending entries in bigger batches.
SESSION_SETTINGS = ("SET synchronous_commit = off", "SET work_mem = '64MB'")

LOCK_JOB = "SELECT pg_try_advisory_lock(%(key)s, %(job_id)s)"
LOCK_KEY = 0x1A0B  # advisory lock namespace of import jobs: (LOCK_KEY, job id)

LOAD_JOB = """
SELECT id, status, mode, filename, stored_name, file_format, encoding, delimiter, headers, mapping,
       list_id, suppress_reason, total, created_by
FROM import_jobs WHERE id = %(job_id)s
"""
JOB_COLUMNS = (
    "id",
    "status",
    "mode",
    "filename",
    "stored_name",
    "file_format",
    "encoding",
    "delimiter",
    "headers",
    "mapping",
    "list_id",
    "suppress_reason",
    "total",
    "created_by",
)

# The chunk size is fixed at the first start, so a rerun cuts the file at the same rows.
START_JOB = """
UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now()), error = '',
  chunk_rows = CASE WHEN chunk_rows > 0 THEN chunk_rows ELSE %(chunk_rows)s END, updated_at = now()
WHERE id = %(job_id)s AND status IN ('queued', 'running')
RETURNING chunk_rows, loaded_chunks
"""

# One chunk's outcome, in the chunk's own transaction. Loaders commit chunks in any order; a chunk
# already recorded (by another runner) makes this match nothing, and the loader rolls back.
ADVANCE_JOB = """
UPDATE import_jobs SET loaded_chunks = array_append(loaded_chunks, %(chunk)s), processed = processed + %(records)s,
  inserted = inserted + %(inserted)s, updated = updated + %(updated)s, skipped = skipped + %(skipped)s,
  duplicates = duplicates + %(duplicates)s, rejected = rejected + %(rejected)s,
  total = greatest(%(total)s, processed + %(records)s), updated_at = now()
WHERE id = %(job_id)s AND status = 'running' AND NOT %(chunk)s = ANY(loaded_chunks)
RETURNING id
"""

FINISH_JOB = """
UPDATE import_jobs SET status = 'done', total = processed, finished_at = now(), updated_at = now()
WHERE id = %(job_id)s AND status = 'running' AND processed = %(records)s
RETURNING id
"""

FAIL_JOB = """
UPDATE import_jobs SET status = 'failed', error = %(error)s, finished_at = now(), updated_at = now()
WHERE id = %(job_id)s AND status IN ('queued', 'running')
"""

NOTE_ERROR = "UPDATE import_jobs SET error = %(error)s, updated_at = now() WHERE id = %(job_id)s"

GIVE_UP = """
UPDATE import_jobs SET status = 'failed', finished_at = now(), updated_at = now(),
  error = 'Stopped after ' || %(attempts)s::text || ' attempts. '
          || replace(error, 'Interrupted, will retry: ', 'Last error: ')
WHERE id = %(job_id)s AND status IN ('queued', 'running')
"""

STATIC_LIST = "SELECT 1 FROM email_lists WHERE id = %(list_id)s AND list_type = 'static'"
