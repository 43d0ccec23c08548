"""Computing scores, set-based, for some contacts (after their events) or for every contact (the
nightly recompute), in one statement whatever their number.

A score = engagement + adjustments + completeness + recency:
- engagement: each enabled rule's points for each of the contact's matching events (human opens
  and clicks from the event log, custom events, sign-up forms and confirmations), a rule with a
  daily limit counting at most that many of them per UTC day;
- adjustments: points given by hand or by automations (kept on the row, never recomputed);
- completeness: 0-20 for a filled-in profile (PROFILE_POINTS);
- recency: 20 for activity just now, halving every 30 days, 0 from 90 days on.
The grade follows the score; the lifecycle stage reached only moves forward; a manual stage wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.scoring.models import GRADES, STAGES
from webapp.scoring.schemas import ScoreChanged

# Which profile fields count toward completeness, and how much (20 in all).
PROFILE_POINTS = (
    ("c.first_name <> ''", 3),
    ("c.last_name <> ''", 3),
    ("c.phone <> ''", 3),
    ("c.company <> ''", 3),
    ("c.job_title <> ''", 3),
    ("c.location <> ''", 3),
    ("c.custom_fields <> '{}'::jsonb", 2),
)
GRADE_FLOORS = (("A+", 90), ("A", 80), ("B+", 70), ("B", 60), ("C", 45), ("D", 25))
RECENCY_MAX = 20
RECENCY_HALF_LIFE_DAYS = 30
RECENCY_DAYS = 90
SIGN_UP_SOURCES = ("page", "form")  # subscriptions' sources that are a sign-up form sent by the person
assert (*(grade for grade, _ in GRADE_FLOORS), "F") == GRADES

_COMPLETENESS = " + ".join(f"CASE WHEN {test} THEN {points} ELSE 0 END" for test, points in PROFILE_POINTS)
_GRADE = "CASE " + " ".join(f"WHEN score >= {floor} THEN '{grade}'" for grade, floor in GRADE_FLOORS) + " ELSE 'F' END"
_STAGES = "ARRAY[" + ", ".join(f"'{stage}'" for stage in STAGES) + "]::text[]"
# The rank (1-based, as array_position) of the stage a score reaches with the thresholds given.
_STAGE_RANK = (
    "CASE "
    + " ".join(f"WHEN score >= :{stage} THEN {rank}" for rank, stage in reversed(list(enumerate(STAGES, 1))[1:]))
    + " ELSE 1 END"
)

# The {some_...} parts narrow every source to the contacts asked for; the nightly recompute leaves them out.
REFRESH = """
WITH targets AS (
  SELECT c.id AS contact_id, {completeness} AS completeness FROM contacts c WHERE true {some_contacts}
), activity AS (
  SELECT e.contact_id, e.kind AS event, e.link_id, NULL::text AS name, e.at
  FROM email_events e
  WHERE e.kind IN ('open', 'click') AND NOT e.machine AND e.contact_id IS NOT NULL {some_events}
  UNION ALL
  SELECT ce.contact_id, 'custom', NULL, ce.name, ce.occurred_at FROM contact_events ce WHERE true {some_custom}
  UNION ALL
  SELECT s.contact_id, 'form', NULL, NULL, s.created_at FROM subscriptions s
  WHERE s.source IN ({sign_up}) {some_subscriptions}
  UNION ALL
  SELECT s.contact_id, 'confirmed', NULL, NULL, s.confirmed_at FROM subscriptions s
  WHERE s.confirmed_at IS NOT NULL {some_subscriptions}
), rules AS MATERIALIZED (  -- each link rule's link ids found once, not once per event
  SELECT r.id, r.event, r.event_name, r.points, r.daily_limit,
         CASE WHEN r.link_url IS NOT NULL THEN ARRAY(SELECT l.id FROM links l WHERE l.url = r.link_url) END AS links
  FROM scoring_rules r WHERE r.enabled
), counted AS (
  -- Every activity row once at least (no rule: points NULL), for the latest activity; a rule without
  -- a daily limit is counted over all days at once.
  SELECT a.contact_id, r.points, r.daily_limit, count(*) AS times, max(a.at) AS last_at
  FROM activity a
  LEFT JOIN rules r ON r.event = a.event AND (r.event_name IS NULL OR r.event_name = a.name)
                   AND (r.links IS NULL OR a.link_id = ANY(r.links))
  GROUP BY a.contact_id, r.id, r.points, r.daily_limit,
           CASE WHEN r.daily_limit IS NOT NULL THEN (a.at AT TIME ZONE 'UTC')::date END
), per_contact AS (
  SELECT contact_id, coalesce(sum(points * least(times, coalesce(daily_limit, times))), 0)::int AS engagement,
         max(last_at) AS last_at
  FROM counted GROUP BY contact_id
), computed AS (
  SELECT t.contact_id, t.completeness, coalesce(p.engagement, 0) AS engagement, p.last_at,
         CASE WHEN p.last_at > CAST(:now AS timestamptz) - interval '{recency_days} days'
              THEN least({recency_max}, round({recency_max} * power(0.5::float8,
                   greatest(0, extract(epoch FROM CAST(:now AS timestamptz) - p.last_at)::float8)
                   / {half_life_seconds})))::int
              ELSE 0 END AS recency,
         coalesce(s.adjustments, 0) AS adjustments, s.stage_override,
         coalesce(s.score, 0) AS old_score, coalesce(s.grade, 'F') AS old_grade,
         coalesce(s.stage, 'subscriber') AS old_stage, coalesce(s.reached_stage, 'subscriber') AS old_reached,
         s.contact_id IS NULL AS is_new, s.engagement AS old_engagement, s.completeness AS old_completeness,
         s.recency AS old_recency, s.last_activity_at AS old_last_at
  FROM targets t LEFT JOIN per_contact p USING (contact_id) LEFT JOIN contact_scores s USING (contact_id)
), totals AS MATERIALIZED (  -- the score once per contact: the grade and stage below read it many times
  SELECT *, engagement + adjustments + completeness + recency AS score FROM computed
), graded AS (
  SELECT *, {grade} AS grade,
         ({stages})[greatest(array_position({stages}, old_reached), {stage_rank})] AS reached
  FROM totals
), final AS (
  SELECT *, coalesce(stage_override, reached) AS stage,
         (score, grade, coalesce(stage_override, reached)) IS DISTINCT FROM (old_score, old_grade, old_stage)
           AS changed
  FROM graded
), written AS (
  INSERT INTO contact_scores AS s (contact_id, score, grade, reached_stage, stage, engagement, adjustments,
                                   completeness, recency, last_activity_at, updated_at)
  SELECT contact_id, score, grade, reached, stage, engagement, adjustments, completeness, recency, last_at,
         clock_timestamp()
  FROM final
  WHERE is_new OR changed OR reached <> old_reached
     OR (engagement, completeness, recency, last_at)
        IS DISTINCT FROM (old_engagement, old_completeness, old_recency, old_last_at)
  ON CONFLICT (contact_id) DO UPDATE
  SET score = EXCLUDED.score, grade = EXCLUDED.grade, reached_stage = EXCLUDED.reached_stage,
      stage = coalesce(s.stage_override, EXCLUDED.reached_stage), engagement = EXCLUDED.engagement,
      completeness = EXCLUDED.completeness, recency = EXCLUDED.recency,
      last_activity_at = EXCLUDED.last_activity_at, updated_at = EXCLUDED.updated_at
), history AS (
  INSERT INTO score_history (contact_id, at, score, change, grade, stage, reason)
  SELECT contact_id, clock_timestamp(), score, score - old_score, grade, stage, :reason FROM final WHERE changed
)
SELECT contact_id, old_score, score, old_grade, grade, old_stage, stage FROM final WHERE changed ORDER BY contact_id
"""


def _statement(some: bool) -> str:
    narrow = {
        "some_contacts": "AND c.id = ANY(:ids)",
        "some_events": "AND e.contact_id = ANY(:ids)",
        "some_custom": "AND ce.contact_id = ANY(:ids)",
        "some_subscriptions": "AND s.contact_id = ANY(:ids)",
    }
    return REFRESH.format(
        completeness=_COMPLETENESS,
        grade=_GRADE,
        stages=_STAGES,
        stage_rank=_STAGE_RANK,
        sign_up=", ".join(f"'{source}'" for source in SIGN_UP_SOURCES),
        recency_days=RECENCY_DAYS,
        recency_max=RECENCY_MAX,
        half_life_seconds=RECENCY_HALF_LIFE_DAYS * 86400,
        **{key: value if some else "" for key, value in narrow.items()},
    )


REFRESH_SOME = text(_statement(some=True))
REFRESH_ALL = text(_statement(some=False))

# Counting every contact's events per rule and day hashes millions of groups: with the default
# 4 MB they would spill to disk many times over. For this transaction only.
ROOM_FOR_EVERYONE = text("SET LOCAL work_mem = '256MB'")

# A contact's row is locked before its score is computed, so two transactions scoring the same
# contact take turns: the second computes after the first committed, from every event both stored.
# Everyone takes the rows that exist in id order, then makes the missing ones (rows only this
# transaction can see until it commits): the nightly recompute, which locks every row, and the
# event worker's batches never wait on each other in a circle.
LOCK_ROWS = text("SELECT contact_id FROM contact_scores WHERE contact_id = ANY(:ids) ORDER BY contact_id FOR UPDATE")
ENSURE_ROWS = text("""
INSERT INTO contact_scores (contact_id, score, grade, reached_stage, stage)
SELECT id, 0, 'F', 'subscriber', 'subscriber' FROM contacts WHERE id = ANY(:ids) ORDER BY id
ON CONFLICT (contact_id) DO NOTHING
""")
LOCK_EVERY_ROW = text("SELECT count(*) FROM (SELECT 1 FROM contact_scores ORDER BY contact_id FOR UPDATE) AS locked")


async def refresh(
    session: AsyncSession,
    contact_ids: Sequence[int] | None,
    thresholds: Mapping[str, int],
    now: datetime,
    reason: str,
) -> list[ScoreChanged]:
    """Score these contacts (None: every contact) from scratch; those whose score, grade or stage
    changed, each with a history row."""
    params = {**thresholds, "now": now, "reason": reason[:200]}
    if contact_ids is None:
        await session.execute(ROOM_FOR_EVERYONE)
        await session.execute(LOCK_EVERY_ROW)
        rows = await session.execute(REFRESH_ALL, params)
    else:
        ids = await lock(session, contact_ids)
        rows = await session.execute(REFRESH_SOME, {**params, "ids": ids})
    return [ScoreChanged(*row) for row in rows]


async def lock(session: AsyncSession, contact_ids: Sequence[int]) -> list[int]:
    """Lock the contacts' score rows, in id order, and make the missing ones (score 0)."""
    ids = sorted(set(contact_ids))
    await session.execute(LOCK_ROWS, {"ids": ids})
    await session.execute(ENSURE_ROWS, {"ids": ids})
    return ids


HUMAN_ENGAGEMENT = text("""
SELECT DISTINCT contact_id FROM email_events
WHERE id = ANY(:ids) AND at BETWEEN :since AND :until AND kind IN ('open', 'click') AND NOT machine
  AND contact_id IS NOT NULL
""")


async def engaged_contacts(
    session: AsyncSession, event_ids: Sequence[int], since: datetime, until: datetime
) -> list[int]:
    """The contacts of the human opens and clicks among these email_events rows (made between since
    and until: only those partitions are read)."""
    found = await session.scalars(HUMAN_ENGAGEMENT, {"ids": list(event_ids), "since": since, "until": until})
    return list(found)
