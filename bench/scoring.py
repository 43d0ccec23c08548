"""Lead scoring: how long the nightly recompute of every contact's score takes.

    .venv/bin/python bench/scoring.py

Arranges BENCH_SCORING_CONTACTS contacts (default 1,000,000; half with a filled-in profile) and
BENCH_SCORING_EVENTS events (default 10,000,000): eight in ten opens and clicks in the event log
(one in ten of them a machine's) and two in ten custom events, spread over the last 120 days,
generated with generate_series; six scoring rules (opens, clicks capped per day, a given link,
purchases, a negative event). Then times scoring.service.recompute_all, the nightly recompute,
twice: the first scores every contact from nothing (a row and a history line each), the second
(score_recompute_s) is a night later, every row there, the scores that decayed rewritten.

Prints
- score_first_compute_s: the first recompute (every contact new).
- score_recompute_s: the nightly recompute. Target < 60 s.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import psycopg
from _common import services

CONTACTS = int(os.environ.get("BENCH_SCORING_CONTACTS", "1000000"))
EVENTS = int(os.environ.get("BENCH_SCORING_EVENTS", "10000000"))
DAYS = 120
RULES = [
    ("Opened", "open", None, None, 1, None),
    ("Clicked", "click", None, None, 3, 5),
    ("Clicked pricing", "click", None, "https://example.com/pricing", 10, 1),
    ("Purchase", "custom", "purchase", None, 20, None),
    ("Visit", "custom", "visit", None, 2, 3),
    ("Complained", "custom", "complaint", None, -15, None),
]


def arrange(dsn: str) -> float:
    """The contacts, rules and events; seconds spent generating them."""
    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO contacts (email, first_name, last_name, company, phone)
               SELECT 'c' || i || '@example.com', CASE WHEN i %% 2 = 0 THEN 'First' ELSE '' END,
                      CASE WHEN i %% 2 = 0 THEN 'Last' ELSE '' END, CASE WHEN i %% 3 = 0 THEN 'Co' ELSE '' END,
                      CASE WHEN i %% 5 = 0 THEN '+1 555' ELSE '' END
               FROM generate_series(1, %s) i""",
            (CONTACTS,),
        )
        first = conn.execute("SELECT min(id) FROM contacts").fetchone()[0]
        for rule in RULES:
            conn.execute(
                "INSERT INTO scoring_rules (name, event, event_name, link_url, points, daily_limit) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                rule,
            )
        campaign = conn.execute(
            "INSERT INTO campaigns (name, status) VALUES ('Bench', 'sent') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO links (campaign_id, url) SELECT %s, 'https://example.com/' || p "
            "FROM unnest(ARRAY['pricing', 'blog', 'docs', 'shop']) p",
            (campaign,),
        )
        first_link = conn.execute("SELECT min(id) FROM links").fetchone()[0]
        email_events = EVENTS * 8 // 10
        # Contacts by a multiplicative hash of g, so a contact's events are spread over the days.
        conn.execute(
            """INSERT INTO email_events (campaign_id, contact_id, kind, link_id, at, machine)
               SELECT %(campaign)s, %(first)s + (g::bigint * 7919) %% %(contacts)s,
                      CASE WHEN g %% 10 < 6 THEN 'open' ELSE 'click' END,
                      CASE WHEN g %% 10 < 6 THEN NULL ELSE %(link)s + g %% 4 END,
                      now() - (g::float / %(events)s) * %(days)s * interval '1 day', g %% 10 = 3
               FROM generate_series(1, %(events)s) g""",
            {
                "campaign": campaign,
                "first": first,
                "contacts": CONTACTS,
                "link": first_link,
                "events": email_events,
                "days": DAYS,
            },
        )
        custom = EVENTS - email_events
        conn.execute(
            """INSERT INTO contact_events (contact_id, name, properties, occurred_at)
               SELECT %(first)s + (g::bigint * 104729) %% %(contacts)s,
                      (ARRAY['visit', 'visit', 'visit', 'purchase', 'complaint'])[1 + g %% 5], '{}',
                      now() - (g::float / %(events)s) * %(days)s * interval '1 day'
               FROM generate_series(1, %(events)s) g""",
            {"first": first, "contacts": CONTACTS, "events": custom, "days": DAYS},
        )
        conn.execute("ANALYZE")
    return time.perf_counter() - start


async def recompute(days_later: int) -> tuple[float, int]:
    """Seconds for one nightly recompute `days_later` days from now, and the contacts it changed."""
    from webapp.core.db import get_sessionmaker
    from webapp.scoring.queries import refresh
    from webapp.scoring.service.settings import thresholds

    async with get_sessionmaker()() as session, session.begin():
        limits = await thresholds(session)
        start = time.perf_counter()
        now = datetime.now(UTC) + timedelta(days=days_later)
        changes = await refresh.refresh(session, None, limits, now, "Nightly recompute")
        return time.perf_counter() - start, len(changes)


def main() -> None:
    with services() as dsn:
        generated = arrange(dsn)
        first, first_changed = asyncio.run(recompute(0))
        nightly, nightly_changed = asyncio.run(recompute(1))
    print(f"generated {CONTACTS:,} contacts and {EVENTS:,} events in {generated:.0f} s")
    print(f"score_first_compute_s  {first:.1f}   ({first_changed:,} contacts scored from nothing)")
    print(f"score_recompute_s      {nightly:.1f}   ({nightly_changed:,} scores changed a night later; target < 60)")


if __name__ == "__main__":
    main()
