"""Contact import at 1,000,000 rows: a generated CSV through the real code path.

Writes a CSV (UTF-8 with a BOM, semicolons, quoted values with the delimiter inside, a blank line
now and then, 0.5% invalid addresses, 0.5% repeated addresses, two tags and a custom field per row),
uploads it as the UI does (`imports.create_draft`: stored, sniffed, mapping guessed), starts it in
"add new contacts" mode (`imports.start`) and times `loader.run_import(job_id)`, the function
the worker's actor calls, into an empty, fully indexed contacts table.

    python bench/import.py            # or: make bench
    BENCH_ROWS=100000 python bench/import.py
    BENCH_UPSERT=1 python bench/import.py    # then the same file again in "add and update" mode

Figures, last, one per line: `name: value`, ending with `import_rows_per_s: N` (rows of the file
divided by the wall time of run_import). `import_postgres_cpu_s` is the CPU time the embedded
PostgreSQL spent on the import (every backend and background process): on a machine shared with
other work it moves far less than the wall time, so compare it between runs made in such conditions.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import tempfile
import time
from pathlib import Path

import psycopg
from _common import services

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
UPSERT = os.environ.get("BENCH_UPSERT", "") not in ("", "0")
SEED = 20261201
FIRST = (
    "Ada Bob Chloé Dan Eve Finn Gus Hana Iris Jon Kai Lea Max Nia Oli Pia Raj Sol Tom Uma Vic Wen Xia Yan Zoë".split()
)
LAST = "Smith Jones García Müller Rossi Dubois Silva Kowalski Nowak Jensen Ivanova Tanaka O'Brien Núñez".split()
TAGS = ["newsletter", "customer", "lead", "vip", "trial", "partner", "beta", "press"]
PLANS = ["free", "starter", "pro", "enterprise"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "example.org", "proton.me", "fastmail.com"]


def write_csv(path: Path, rows: int) -> dict[str, int]:
    rng = random.Random(SEED)
    invalid = duplicates = blank = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write("Email;First name;Last name;Company;Job title;Phone;City;Tags;Plan;Language\r\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.005:
                email, invalid = f"broken{i}.example.com", invalid + 1
            elif roll < 0.01 and i > 10:
                k = rng.randrange(i // 2)  # an earlier row's address, in capitals (may itself be a broken one)
                email, duplicates = f"USER{k}@{DOMAINS[k % len(DOMAINS)]}", duplicates + 1
            else:
                email = f"user{i}@{DOMAINS[i % len(DOMAINS)]}"
            tags = ", ".join(rng.sample(TAGS, 2))
            company = f'"Acme {i % 5000}; Holdings"' if i % 7 == 0 else f"Acme {i % 5000}"
            f.write(
                f"{email};{rng.choice(FIRST)};{rng.choice(LAST)};{company};Engineer;+1 555 {i:07d};"
                f'Oslo;"{tags}";{rng.choice(PLANS)};{"es" if i % 3 else "en"}\r\n'
            )
            if i % 10_000 == 5_000:
                f.write("\r\n")
                blank += 1
    return {"invalid": invalid, "repeated_addresses": duplicates, "blank_lines": blank}


async def upload_and_start(path: Path, mode: str) -> int:
    from webapp.core.db import get_sessionmaker
    from webapp.imports.service import jobs as imports

    async with get_sessionmaker()() as session:
        with open(path, "rb") as source:
            job = await imports.create_draft(session, source, "bench.csv", "bench")
        mapping = list(job.mapping)
        mapping[job.headers.index("Plan")] = "custom:plan"
        await imports.start(session, job, {"mapping": mapping, "mode": mode})
        return job.id


async def job_figures(job_id: int) -> dict[str, int]:
    from webapp.core.db import get_sessionmaker
    from webapp.imports.models import ImportJob

    async with get_sessionmaker()() as session:
        job = await session.get(ImportJob, job_id)
        return {
            name: getattr(job, name) for name in ("total", "inserted", "updated", "skipped", "duplicates", "rejected")
        } | {"status": job.status}


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command: [1] is the parent, [11:15] utime, stime,
    cutime, cstime (the last two: children reaped so far)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                tree.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return tree


def tree_cpu_seconds(pid: int, tree: dict[int, list[int]] | None = None) -> float:
    """CPU time used so far by a process and all its descendants, live or ended."""
    tree = _children() if tree is None else tree
    try:
        ticks = sum(int(value) for value in _stat(pid)[11:15])
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return ticks / os.sysconf("SC_CLK_TCK") + sum(tree_cpu_seconds(child, tree) for child in tree.get(pid, []))


def postgres_cpu_seconds() -> float | None:
    """CPU time used so far by the embedded PostgreSQL (every backend and background process). None
    for a server that is not embedded here."""
    pid_file = Path(os.environ["MAILROOM_DATA_DIR"]) / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    return tree_cpu_seconds(int(pid_file.read_text().split()[0]))


def python_cpu_seconds() -> float:
    """CPU time of this process and the Python processes it started (the fork server and the
    import's reading process), not of the database servers."""
    tree = _children()
    python = [pid for pid in tree.get(os.getpid(), []) if b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + sum(tree_cpu_seconds(pid, tree) for pid in python)


def timed_run(job_id: int) -> tuple[float, float]:
    """The wall time of run_import and the CPU time the Python side spent on it."""
    from webapp.imports.service.loader import run_import

    started, cpu = time.perf_counter(), python_cpu_seconds()
    status = run_import(job_id)
    elapsed = time.perf_counter() - started
    if status != "done":
        raise SystemExit(f"import ended {status!r}")
    return elapsed, python_cpu_seconds() - cpu


def main() -> None:
    figures: dict[str, float | int | str] = {"rows": ROWS}
    with services() as dsn, tempfile.TemporaryDirectory(prefix="mr-bench-import-") as scratch:
        path = Path(scratch) / "contacts.csv"
        print(f"Writing a {ROWS:,}-row CSV ...", flush=True)
        started = time.perf_counter()
        figures.update(write_csv(path, ROWS))
        figures["file_mb"] = round(path.stat().st_size / 1e6, 1)
        figures["write_csv_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        job_id = asyncio.run(upload_and_start(path, "add"))
        figures["upload_and_sniff_s"] = round(time.perf_counter() - started, 2)
        print("Importing (add new contacts) ...", flush=True)
        cpu_before = postgres_cpu_seconds()
        elapsed, figures["import_python_cpu_s"] = timed_run(job_id)
        figures["import_python_cpu_s"] = round(float(figures["import_python_cpu_s"]), 1)
        if cpu_before is not None:
            figures["import_postgres_cpu_s"] = round(postgres_cpu_seconds() - cpu_before, 1)
        result = asyncio.run(job_figures(job_id))
        figures.update({f"add_{k}": v for k, v in result.items()})
        with psycopg.connect(dsn) as conn:
            figures["contacts_after"] = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
            # The whole server's since it started (migrations are a few MB): what the import wrote to its log.
            wal_bytes, wal_fpi = conn.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal").fetchone()
            figures["wal_mb"], figures["wal_full_page_images"] = round(float(wal_bytes) / 1e6), wal_fpi
            figures["checkpoints"] = conn.execute(
                "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"
            ).fetchone()[0]
            figures["contacts_autovacuums"], figures["contacts_autoanalyzes"] = conn.execute(
                "SELECT autovacuum_count, autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'contacts'"
            ).fetchone()
        figures["import_s"] = round(elapsed, 1)
        if UPSERT:
            print("Importing again (add and update) ...", flush=True)
            upsert_job = asyncio.run(upload_and_start(path, "upsert"))
            upsert_s, _ = timed_run(upsert_job)
            figures.update({f"upsert_{k}": v for k, v in asyncio.run(job_figures(upsert_job)).items()})
            figures["upsert_s"] = round(upsert_s, 1)
            figures["upsert_rows_per_s"] = round(ROWS / upsert_s)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    figures["import_rows_per_s"] = round(ROWS / elapsed)
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
