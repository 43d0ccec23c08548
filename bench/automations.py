"""Automations: how fast the engine runs due steps (and, per figure, more to come).

    .venv/bin/python bench/automations.py            # every figure
    .venv/bin/python bench/automations.py steps      # one figure

Prints
- automation_steps_per_s (`steps`): BENCH_ENROLMENTS (default 1,000,000) contacts enrolled in an
  automation "wait, then tag", their waits all ending at the same moment; the real worker
  (`mailroom worker`, MAILROOM_WORKER_PROCESSES processes, scheduler tick every second) runs them
  through the tag step. Figure: tag steps done / seconds from the moment the waits ended to the moment
  the last enrolment completed. Also printed: the seconds, the worker's CPU seconds over the whole
  run (Python's share; the rest is PostgreSQL's), whether every contact got its tag exactly once
  (and every wait and tag has its step run), and how many enrolments completed.
- automation_duplicate_sends (`duplicates`): BENCH_AUTOMATION_EMAILS (default 5,000) enrolments
  due at an email step; the real worker (`mailroom worker`) runs the step (the engine) and sends
  the messages to an SMTP server that records every message, and is SIGKILLed
  (its whole process group) BENCH_KILLS times (default 3) mid-run, a fresh worker starting after
  each kill. Figure: messages the server received more than once (target 0). Also printed: the
  messages left in doubt (the dead worker was handing them over: never sent again), the
  recipients who got nothing (automation_lost_sends: only messages in doubt may be missing), and
  whether every enrolment has exactly one message.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter

import psycopg
from _common import ROOT, services

ENROLMENTS = int(os.environ.get("BENCH_ENROLMENTS", "1000000"))
# From the enrolments' insert to the waits' end: time to insert them and vacuum (the worker is up already).
LEAD_SECONDS = 10 + ENROLMENTS / 25_000
STEPS = '[{"id": "wait", "type": "wait", "duration": {"minutes": 1}, "skip_if": null},' \
    ' {"id": "tag", "type": "tag", "tags": ["bench"], "skip_if": null}]'  # fmt: skip

EMAILS = int(os.environ.get("BENCH_AUTOMATION_EMAILS", "5000"))
KILLS = int(os.environ.get("BENCH_KILLS", "3"))
CONNECTIONS = 10  # the SMTP server's max_connections
EMAIL_STEP = '[{"id": "email", "type": "send_email", "template_id": %s, "skip_if": null}]'
HTML = '<html><body><p>Hello {{ first_name }}</p><p><a href="https://example.com/welcome">Start</a></p></body></html>'
WORKER_ENV = {"MAILROOM_SCHEDULER_INTERVAL": "1", "MAILROOM_SEND_LEASE_SECONDS": "5", "MAILROOM_SEND_BATCH_SIZE": "50"}


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
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker and its worker process
        with psycopg.connect(dsn) as conn:
            tagged, completed, runs = conn.execute(
                """SELECT (SELECT count(*) FROM contacts WHERE tags = '{bench}'),
                          (SELECT count(*) FROM automation_enrolments WHERE status = 'completed'),
                          (SELECT count(*) FROM automation_step_runs)"""
            ).fetchone()
    seconds = done - due
    print(f"automation_steps_s: {seconds:.1f}")
    print(f"automation_steps_worker_cpu_s: {usage.ru_utime + usage.ru_stime:.1f}")
    print(f"automation_steps_tagged_once: {tagged == ENROLMENTS and runs == 2 * ENROLMENTS}")
    print(f"automation_steps_completed: {completed}")
    print(f"automation_steps_per_s: {ENROLMENTS / seconds:.0f}")


def arrange_email_step(dsn: str, sink_port: int) -> None:
    """EMAILS contacts enrolled in an automation whose first step is an email, due now, the SMTP
    server and the sender set: the worker's engine runs the step, its sender sends."""
    asyncio.run(set_sender())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO contacts (email, first_name) SELECT 'mailed' || i || '@example.com', 'Person ' || i"
            " FROM generate_series(1, %s) i",
            (EMAILS,),
        )
        conn.execute(
            "INSERT INTO smtp_servers (name, host, port, tls_mode, max_connections, allow_private)"
            " VALUES ('sink', '127.0.0.1', %s, 'none', %s, true)",
            (sink_port, CONNECTIONS),
        )
        template_id = conn.execute(
            "INSERT INTO email_templates (name, subject, html_content) VALUES ('Welcome', 'Welcome', %s) RETURNING id",
            (HTML,),
        ).fetchone()[0]
        automation_id = conn.execute(
            """INSERT INTO automations (name, status, trigger) VALUES ('Bench', 'active', '{"kind": "manual"}')
               RETURNING id"""
        ).fetchone()[0]
        version_id = conn.execute(
            "INSERT INTO automation_versions (automation_id, number, steps, published_at) VALUES (%s, 1, %s, now())"
            " RETURNING id",
            (automation_id, EMAIL_STEP % template_id),
        ).fetchone()[0]
        conn.execute("UPDATE automations SET current_version_id = %s", (version_id,))
        conn.execute(
            """INSERT INTO automation_enrolments (automation_id, version_id, contact_id, step_id, due_at)
               SELECT %s, %s, id, 'email', now() FROM contacts""",
            (automation_id, version_id),
        )


async def set_sender() -> None:
    from webapp.core.db import get_sessionmaker
    from webapp.settings.service import organisation

    async with get_sessionmaker()() as session:
        sender = organisation.OrgSettings(
            organisation_name="Bench Ltd", postal_address="1 Bench Street", default_from_email="news@bench.test"
        )
        await organisation.save(session, sender)
        await session.commit()


def start_worker(log_name: str) -> subprocess.Popen[bytes]:
    with open(ROOT / "bench" / log_name, "w") as log:  # the worker keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **WORKER_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )


def unfinished(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending', 'handing')"
            ).fetchone()[0]
        )


def duplicate_sends() -> None:
    from tests.support.smtp import SmtpSink

    with services() as dsn, SmtpSink() as sink:
        print(f"automation_emails: {EMAILS}, kills: {KILLS}")
        arrange_email_step(dsn, sink.port)
        worker = start_worker("automations-mail-worker-0.log")
        try:
            for kill in range(1, KILLS + 1):
                target = EMAILS * kill // (KILLS + 1)
                while len(sink.messages) < target:
                    time.sleep(0.01)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
                print(f"killed worker {kill} at {len(sink.messages)} messages received")
                worker = start_worker(f"automations-mail-worker-{kill}.log")
            while unfinished(dsn) or len(sink.messages) == 0:
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        received = Counter(sink.handler.recipients())
        with psycopg.connect(dsn) as conn:
            in_doubt = {row[0] for row in conn.execute("SELECT email FROM deliveries WHERE status = 'in_doubt'")}
            one_each = conn.execute(
                """SELECT (SELECT count(*) = %s AND count(DISTINCT enrolment_id) = %s FROM deliveries)
                          AND (SELECT count(*) = %s FROM automation_step_runs WHERE step_id = 'email')""",
                (EMAILS, EMAILS, EMAILS),
            ).fetchone()[0]
    expected = {f"mailed{i}@example.com" for i in range(1, EMAILS + 1)}
    lost = expected - set(received)
    print(f"automation_in_doubt: {len(in_doubt)} (received anyway: {len(in_doubt & set(received))})")
    print(f"automation_one_message_per_enrolment: {one_each}")
    print(f"automation_lost_sends: {len(lost)} (all in doubt: {lost <= in_doubt})")
    print(f"automation_duplicate_sends: {sum(n - 1 for n in received.values())}")


FIGURES = {"steps": steps_per_s, "duplicates": duplicate_sends}


if __name__ == "__main__":
    for name in sys.argv[1:] or list(FIGURES):
        FIGURES[name]()
