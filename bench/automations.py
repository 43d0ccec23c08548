"""Automations: how fast the engine runs due steps (and, per figure, more to come).

    .venv/bin/python bench/automations.py            # every figure
    .venv/bin/python bench/automations.py steps      # one figure

Prints
- automation_steps_per_s (`steps`): BENCH_ENROLMENTS (default 1,000,000) contacts enrolled in an
  automation "wait, then tag", their waits all ending at the same moment; the real worker
  (`mailroom worker`, MAILROOM_WORKER_PROCESSES processes, scheduler tick every second) runs them
  through the tag step. Figure: tag steps done / seconds from the moment the waits ended to the moment
  the last enrolment completed. Also printed: the seconds, the wait steps done alongside, and
  whether every contact got its tag exactly once and every enrolment completed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
from _common import ROOT, services

ENROLMENTS = int(os.environ.get("BENCH_ENROLMENTS", "1000000"))
# From the enrolments' insert to the waits' end: time to insert them and vacuum (the worker is up already).
LEAD_SECONDS = 10 + ENROLMENTS / 25_000
STEPS = '[{"id": "wait", "type": "wait", "duration": {"minutes": 1}, "skip_if": null},' \
    ' {"id": "tag", "type": "tag", "tags": ["bench"], "skip_if": null}]'  # fmt: skip


def arrange_waits(dsn: str) -> float:
    """ENROLMENTS contacts waiting in one automation, all due at the same moment, LEAD_SECONDS after
    their insert starts (returned, epoch seconds)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO contacts (email) SELECT 'waiting' || i || '@example.com' FROM generate_series(1, %s) i",
            (ENROLMENTS,),
        )
        automation_id = conn.execute(
            """INSERT INTO automations (name, status, trigger) VALUES ('Bench', 'active', '{"kind": "manual"}')
               RETURNING id"""
        ).fetchone()[0]
        version_id = conn.execute(
            "INSERT INTO automation_versions (automation_id, number, steps, published_at) VALUES (%s, 1, %s, now())"
            " RETURNING id",
            (automation_id, STEPS),
        ).fetchone()[0]
        conn.execute("UPDATE automations SET current_version_id = %s", (version_id,))
        due = conn.execute("SELECT extract(epoch FROM clock_timestamp()) + %s", (LEAD_SECONDS,)).fetchone()[0]
        conn.execute(
            """INSERT INTO automation_enrolments (automation_id, version_id, contact_id, step_id, due_at)
               SELECT %s, %s, id, 'wait', to_timestamp(%s) FROM contacts""",
            (automation_id, version_id, due),
        )
        # As the engine leaves a contact that arrived at the wait: its run recorded when the wait began.
        conn.execute(
            "INSERT INTO automation_step_runs (enrolment_id, step_id, outcome) SELECT id, 'wait', 'done' "
            "FROM automation_enrolments"
        )
        conn.execute("VACUUM ANALYZE")
    return float(due)


def wait_until_done(dsn: str) -> float:
    """When no enrolment is active any more (epoch seconds, checked twice a second)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT EXISTS (SELECT 1 FROM automation_enrolments WHERE status = 'active')").fetchone()[0]:
            time.sleep(0.5)
    return time.time()


def steps_per_s() -> None:
    with services() as dsn:
        print(f"enrolments: {ENROLMENTS}")
        env = {**os.environ, "MAILROOM_SCHEDULER_INTERVAL": "1"}
        with open(ROOT / "bench" / "automations-worker.log", "w") as log:  # the worker keeps its own copy
            worker = subprocess.Popen(
                [sys.executable, "-m", "webapp.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            started = time.perf_counter()
            due = arrange_waits(dsn)
            print(f"arrange_s: {time.perf_counter() - started:.1f}")
            if time.time() > due:
                raise RuntimeError(
                    f"arranging took longer than LEAD_SECONDS ({LEAD_SECONDS:.0f}): the waits ended early"
                )
            done = wait_until_done(dsn)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        with psycopg.connect(dsn) as conn:
            tagged, completed, runs = conn.execute(
                """SELECT (SELECT count(*) FROM contacts WHERE tags = '{bench}'),
                          (SELECT count(*) FROM automation_enrolments WHERE status = 'completed'),
                          (SELECT count(*) FROM automation_step_runs)"""
            ).fetchone()
    seconds = done - due
    print(f"automation_steps_s: {seconds:.1f}")
    print(f"automation_steps_tagged_once: {tagged == ENROLMENTS and runs == 2 * ENROLMENTS}")
    print(f"automation_steps_completed: {completed}")
    print(f"automation_steps_per_s: {ENROLMENTS / seconds:.0f}")


FIGURES = {"steps": steps_per_s}


if __name__ == "__main__":
    for name in sys.argv[1:] or list(FIGURES):
        FIGURES[name]()
