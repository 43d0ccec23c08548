"""Segment counts over a large contact table, through the same code the builder and the API use.

    .venv/bin/python bench/segments.py          # 1,000,000 contacts (BENCH_CONTACTS to change)

Seeds contacts as bench/contacts.py does (names, companies, tags, custom plan/score, three years of
sign-ups), then times services.segment_lists.count_rules for a few segments and prints p50/p95 per
segment. The last line is the issue's figure: the p50 of a three-condition segment.
"""

from __future__ import annotations

import asyncio
import os
import time

from _common import percentile, services
from contacts import seed

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
RUNS, WARMUP = int(os.environ.get("BENCH_RUNS", "30")), 3


def _rules(operator: str, *conditions: dict) -> dict:
    return {"operator": operator, "conditions": list(conditions)}


def _condition(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


SEGMENTS = {
    # the figure: three conditions of three kinds (tag, custom field, relative date)
    "three_conditions": _rules(
        "AND",
        _condition("tags", "has_any", ["newsletter"]),
        _condition("custom.plan", "eq", "pro"),
        _condition("date_added", "within_last", 365),
    ),
    "nested_or": _rules(
        "AND",
        _condition("status", "eq", "active"),
        _rules("OR", _condition("tags", "has_all", ["customer", "newsletter"]), _condition("custom.score", "gte", 90)),
        _condition("company", "contains", "harbor"),
    ),
    "rare_tag_recent": _rules(
        "AND", _condition("tags", "has_any", ["partner"]), _condition("date_added", "gte", "-90d")
    ),
    "everyone_active": _rules("AND", _condition("status", "eq", "active")),
}


async def time_counts() -> dict[str, float]:
    from webapp.core.db import get_sessionmaker
    from webapp.lists.service.segments import count_rules

    figures: dict[str, float] = {}
    async with get_sessionmaker()() as session:
        for name, rules in SEGMENTS.items():
            timings = []
            for run in range(WARMUP + RUNS):
                started = time.perf_counter()
                matched = await count_rules(session, rules, None)
                if run >= WARMUP:
                    timings.append((time.perf_counter() - started) * 1000)
            figures[f"{name}_matches"] = matched
            figures[f"{name}_p50_ms"] = round(percentile(timings, 50), 1)
            figures[f"{name}_p95_ms"] = round(percentile(timings, 95), 1)
            print(f"  {name}: {matched:,} matches, p50 {figures[f'{name}_p50_ms']} ms", flush=True)
    return figures


def main() -> None:
    with services() as dsn:
        print(f"Seeding {CONTACTS:,} contacts ...", flush=True)
        figures: dict[str, float] = {"contacts": CONTACTS, **seed(dsn, CONTACTS)}
        figures.update(asyncio.run(time_counts()))
    figures["segment_count_p50_ms"] = figures["three_conditions_p50_ms"]
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
