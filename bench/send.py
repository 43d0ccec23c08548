"""Send throughput: a personalised, tracked campaign to Postfix's smtp-sink with the real worker.

Prints our rate, the reference rate of Postfix's own smtp-source -> smtp-sink on this machine in
the same run, their ratio, the worker's peak RSS, and what the sink accepted. Every message is
DKIM-signed (a 2048-bit RSA key, as Settings -> Organisation generates); BENCH_DKIM=0 sends unsigned.
Needs the Debian package postfix (for /usr/sbin/smtp-sink and smtp-source). BENCH_RECIPIENTS
overrides 100,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from _common import ROOT, _free_port, services

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "100000"))
WORKER_PROCESSES = int(os.environ.get("BENCH_WORKER_PROCESSES", str(os.cpu_count() or 2)))
DKIM = os.environ.get("BENCH_DKIM", "1") != "0"
SINK, SOURCE = "/usr/sbin/smtp-sink", "/usr/sbin/smtp-source"

HTML = """<html><head><style>p { font-family: sans-serif; color: #333 }</style></head><body>
<h1>Hello {{ first_name | default("there") }}!</h1>
<p>Here is this week's news for {{ company }}, {{ first_name }} {{ last_name }}.</p>
<p><a href="https://example.com/articles/1">Read the first story</a> ·
<a href="https://example.com/articles/2">Read the second story</a></p>
{% if plan %}<p>Your plan: {{ plan }}</p>{% endif %}
<p>See you next week.</p></body></html>"""


class Sink:
    """smtp-sink with a running counter (-c) that we read to know what it accepted."""

    def __init__(self) -> None:
        self.port = _free_port()
        # The counter goes to a file: into an unread pipe it would fill the pipe and stall the sink.
        self.output = Path(tempfile.mkstemp(prefix="mr-bench-sink-")[1])
        with self.output.open("w") as out:  # the sink keeps its own copy of the file
            self.proc = subprocess.Popen(
                [SINK, "-c", "-u", "root", f"127.0.0.1:{self.port}", "1000"], stdout=out, stderr=subprocess.DEVNULL
            )
        time.sleep(0.5)

    def stop(self) -> int:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        counts = re.findall(rb"\d+", self.output.read_bytes())
        self.output.unlink()
        return int(counts[-1]) if counts else 0


def reference_rate(messages: int) -> float:
    sink = Sink()
    try:
        start = time.perf_counter()
        subprocess.run(
            [
                SOURCE,
                "-s",
                "20",
                "-m",
                str(messages),
                "-l",
                "3000",
                "-f",
                "news@example.com",
                "-t",
                "reader@example.com",
                f"127.0.0.1:{sink.port}",
            ],
            check=True,
        )
        return messages / (time.perf_counter() - start)
    finally:
        sink.stop()


async def arrange(port: int) -> int:
    from sqlalchemy import text

    from webapp.campaigns.service import campaigns
    from webapp.core.db import get_sessionmaker
    from webapp.lists.models import EmailList
    from webapp.settings.models import SmtpServer
    from webapp.settings.service import organisation as org_settings

    async with get_sessionmaker()() as session:
        await session.execute(
            text("""
            INSERT INTO contacts (email, first_name, last_name, company, custom_fields)
            SELECT 'reader' || i || '@example.com', 'Reader' || i, 'Surname' || (i % 997), 'Company ' || (i % 1000),
                   CASE WHEN i % 3 = 0 THEN '{"plan": "pro"}'::jsonb ELSE '{}'::jsonb END
            FROM generate_series(1, :n) i"""),
            {"n": RECIPIENTS},
        )
        email_list = EmailList(name="Bench readers")
        session.add(email_list)
        session.add(
            SmtpServer(
                name="smtp-sink", host="127.0.0.1", port=port, tls_mode="none", max_connections=20, allow_private=True
            )
        )
        await session.flush()
        await session.execute(
            text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts"), {"l": email_list.id}
        )
        await org_settings.save(
            session,
            org_settings.OrgSettings(
                organisation_name="Bench Ltd",
                postal_address="1 Bench Road, Benchville",
                dkim_domain="example.com",
                dkim_selector="bench",
            ),
        )
        if DKIM:
            await org_settings.replace_dkim_key(session)
        campaign = await campaigns.create_campaign(
            session,
            {
                "name": "Bench",
                "subject": "News for {{ first_name }}",
                "from_email": "news@example.com",
                "from_name": "Bench News",
                "html_content": HTML,
                "list_ids": [email_list.id],
            },
            created_by="bench",
        )
        await session.execute(text("ANALYZE"))
        await session.commit()
        return campaign.id


def cpu_seconds(worker: psutil.Process) -> dict[int, float]:
    """CPU time (user + system) so far of the worker and every process under it (renderers too)."""
    seconds = {}
    for process in [worker, *worker.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy, all cores together (not idle, waiting or stolen)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "steal", 0.0))


@dataclass
class SendRun:
    elapsed: float
    sent: int
    peak_rss_mb: float
    peak_total_mb: float
    cpu: float  # the worker's processes, renderers included
    rendering: float  # the renderer processes alone
    machine_cpu: float  # everything: worker, PostgreSQL, Redis, smtp-sink, kernel


async def start_and_wait(campaign_id: int, worker: psutil.Process) -> SendRun:
    """Send, and sample memory: worker_peak_rss is the largest single worker process (each is
    one `mailroom worker` process's share); the total adds the supervisor and all processes. Also
    the CPU seconds the worker's processes used for the send: unlike the rate, hardly changed by
    what else runs on the machine."""
    from webapp.campaigns.models import Campaign
    from webapp.campaigns.service import campaigns
    from webapp.core.db import get_sessionmaker
    from webapp.delivery.actors import announce_change

    async with get_sessionmaker()() as session:
        await announce_change(session, await campaigns.send_now(session, campaign_id))  # as "Send now" does
        peak_rss = peak_total = 0
        cpu_before, machine_before = cpu_seconds(worker), busy_seconds()
        cpu_now = dict(cpu_before)
        while True:
            cpu_now |= cpu_seconds(worker)  # a process that ended keeps its last reading
            sizes = [p.memory_info().rss for p in [worker, *worker.children(recursive=True)] if p.is_running()]
            peak_rss, peak_total = max(peak_rss, *sizes), max(peak_total, sum(sizes))
            session.expire_all()
            campaign = await session.get(Campaign, campaign_id)
            print(
                f"\r{campaign.status}: {campaign.sent_count:,}/{campaign.total_recipients:,} sent",
                end="",
                file=sys.stderr,
                flush=True,
            )
            if campaign.status != "sending" and campaign.materialised_at is not None:
                machine_cpu = busy_seconds() - machine_before
                break
            await asyncio.sleep(0.2)
        if campaign.status != "sent":
            raise RuntimeError(f"campaign ended {campaign.status}: {campaign.status_reason}")
        elapsed = (campaign.completed_at - campaign.started_at).total_seconds()
        used = {pid: seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_now.items()}
        senders = {worker.pid, *(p.pid for p in worker.children())}  # the rest are renderer processes
        cpu, rendering = sum(used.values()), sum(s for pid, s in used.items() if pid not in senders)
        return SendRun(elapsed, campaign.sent_count, peak_rss / 2**20, peak_total / 2**20, cpu, rendering, machine_cpu)


def main() -> None:
    for tool in (SINK, SOURCE):
        if not Path(tool).exists():
            sys.exit(f"{tool} is missing: apt-get install postfix (it provides smtp-sink and smtp-source)")
    # The reference runs before and after our send, and the ratio uses their mean: on a shared
    # machine the load changes within minutes, and one reference run alone swung the ratio by half.
    reference_before = reference_rate(min(RECIPIENTS, 50_000) // 2)
    with services():
        sink = Sink()
        campaign_id = asyncio.run(arrange(sink.port))
        env = {**os.environ, "MAILROOM_SEND_BATCH_SIZE": "500", "MAILROOM_SCHEDULER_INTERVAL": "0.5"}
        with open(ROOT / "bench" / "send-worker.log", "w") as log:  # the worker keeps its own copy
            worker = subprocess.Popen(
                [sys.executable, "-m", "webapp.cli", "worker"],
                cwd=ROOT,
                env={**env, "MAILROOM_WORKER_PROCESSES": str(WORKER_PROCESSES), "MAILROOM_WORKER_THREADS": "4"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(2)
            run = asyncio.run(start_and_wait(campaign_id, psutil.Process(worker.pid)))
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        accepted = sink.stop()
    rate = run.sent / run.elapsed
    reference_after = reference_rate(min(RECIPIENTS, 50_000) // 2)
    reference = (reference_before + reference_after) / 2
    print(f"recipients: {RECIPIENTS}")
    print(f"worker_processes: {WORKER_PROCESSES}")
    print(f"send_seconds: {run.elapsed:.1f}")
    print(f"worker_processes_total_peak_rss_mb: {run.peak_total_mb:.0f}")
    print(f"dkim: {'on' if DKIM else 'off'}")
    print(f"send_rate_{'dkim_' if DKIM else ''}msgs_per_s: {rate:.0f}")
    print(f"reference_rate_msgs_per_s: {reference:.0f} (before {reference_before:.0f}, after {reference_after:.0f})")
    print(f"send_ratio: {rate / reference:.3f}")
    print(f"worker_peak_rss_mb: {run.peak_rss_mb:.0f}")
    print(f"worker_cpu_ms_per_msg: {1000 * run.cpu / run.sent:.2f}")  # worker + renderers; not PostgreSQL, Redis, sink
    print(f"renderer_cpu_ms_per_msg: {1000 * run.rendering / run.sent:.2f}")  # of which in the renderer processes
    # all cores, everything running; bench/send_floor.py sets it against what a ratio of 0.35 allows
    print(f"machine_cpu_ms_per_msg: {1000 * run.machine_cpu / run.sent:.2f}")
    print(f"send_accepted_by_sink: {accepted}")


if __name__ == "__main__":
    main()
