"""Automations, figure by figure.

    .venv/bin/python bench/automations.py               # every figure
    .venv/bin/python bench/automations.py duplicates    # one figure

Prints
- automation_duplicate_sends (`duplicates`): BENCH_AUTOMATION_EMAILS (default 5,000) enrolments
  whose email step has run (a pending message each, as the step leaves them); the real worker
  (`mailroom worker`) sends them to an SMTP server that records every message, and is SIGKILLed
  (its whole process group) BENCH_KILLS times (default 3) mid-run, a fresh worker starting after
  each kill. Figure: messages the server received more than once (target 0). Also printed: the
  messages left in doubt (the dead worker was handing them over: never sent again), the
  recipients who got nothing (automation_lost_sends: only messages in doubt may be missing), and
  whether every enrolment has exactly one message.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import psycopg
from _common import ROOT, services

EMAILS = int(os.environ.get("BENCH_AUTOMATION_EMAILS", "5000"))
KILLS = int(os.environ.get("BENCH_KILLS", "3"))
CONNECTIONS = 10  # the SMTP server's max_connections
EMAIL_STEP = '[{"id": "email", "type": "send_email", "template_id": %s, "skip_if": null}]'
HTML = '<html><body><p>Hello {{ first_name }}</p><p><a href="https://example.com/welcome">Start</a></p></body></html>'
WORKER_ENV = {"MAILROOM_SCHEDULER_INTERVAL": "1", "MAILROOM_SEND_LEASE_SECONDS": "5", "MAILROOM_SEND_BATCH_SIZE": "50"}


def arrange_email_step(dsn: str, sink_port: int) -> int:
    """EMAILS contacts enrolled in an automation whose step is an email, the SMTP server and the
    sender set; the automation's id."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO contacts (email, first_name) SELECT 'mailed' || i || '@example.com', 'Person ' || i"
            " FROM generate_series(1, %s) i",
            (EMAILS,),
        )
        conn.execute(
            "INSERT INTO smtp_servers (name, host, port, tls_mode, max_connections) VALUES ('sink', '127.0.0.1', %s,"
            " 'none', %s)",
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
               SELECT %s, %s, id, 'email', now() + interval '1 day' FROM contacts""",
            (automation_id, version_id),
        )
    asyncio.run(run_email_step(automation_id))
    return int(automation_id)


async def run_email_step(automation_id: int) -> None:
    """The email step's run for every enrolment, as the engine records it: the step run rows and the
    executor's effect (a pending message each) in one transaction; the enrolments then complete."""
    from sqlalchemy import text

    from webapp.automations.service.executors import EXECUTOR_MODULES  # registers the executors
    from webapp.automations.service.steps import EXECUTORS, StepBatch
    from webapp.core.db import get_sessionmaker
    from webapp.settings.service import organisation

    assert EXECUTOR_MODULES
    async with get_sessionmaker()() as session:
        await organisation.save(
            session,
            organisation.OrgSettings(
                organisation_name="Bench Ltd", postal_address="1 Bench Street", default_from_email="news@bench.test"
            ),
        )
        rows = (
            await session.execute(
                text("SELECT id, contact_id, version_id FROM automation_enrolments WHERE automation_id = :a"),
                {"a": automation_id},
            )
        ).all()
        steps = await session.scalar(text("SELECT steps FROM automation_versions WHERE id = :v"), {"v": rows[0][2]})
        await session.execute(
            text("""INSERT INTO automation_step_runs (enrolment_id, step_id, outcome)
                    SELECT id, 'email', 'done' FROM automation_enrolments WHERE automation_id = :a"""),
            {"a": automation_id},
        )
        await EXECUTORS["send_email"](
            session,
            StepBatch(
                automation_id=automation_id,
                version_id=rows[0][2],
                step=steps[0],
                enrolment_ids=[r[0] for r in rows],
                contact_ids=[r[1] for r in rows],
                now=await session.scalar(text("SELECT now()")),
            ),
        )
        await session.execute(
            text("""UPDATE automation_enrolments SET status = 'completed', step_id = NULL, finished_at = now()
                    WHERE automation_id = :a"""),
            {"a": automation_id},
        )
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
            while unfinished(dsn):
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        received = Counter(sink.handler.recipients())
        with psycopg.connect(dsn) as conn:
            in_doubt = {row[0] for row in conn.execute("SELECT email FROM deliveries WHERE status = 'in_doubt'")}
            one_each = conn.execute(
                "SELECT count(*) = %s AND count(DISTINCT enrolment_id) = %s FROM deliveries", (EMAILS, EMAILS)
            ).fetchone()[0]
    expected = {f"mailed{i}@example.com" for i in range(1, EMAILS + 1)}
    lost = expected - set(received)
    print(f"automation_in_doubt: {len(in_doubt)} (received anyway: {len(in_doubt & set(received))})")
    print(f"automation_one_message_per_enrolment: {one_each}")
    print(f"automation_lost_sends: {len(lost)} (all in doubt: {lost <= in_doubt})")
    print(f"automation_duplicate_sends: {sum(n - 1 for n in received.values())}")


FIGURES = {"duplicates": duplicate_sends}


if __name__ == "__main__":
    for name in sys.argv[1:] or list(FIGURES):
        FIGURES[name]()
