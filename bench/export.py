"""CSV export of 1,000,000 contacts from the real server: rows per second and the server's memory.

    .venv/bin/python bench/export.py          # BENCH_CONTACTS to change the size

Seeds contacts as bench/contacts.py does, starts the app (`mailroom run`), signs in as a viewer and
streams `GET /contacts/export` to nowhere, while a thread samples the server process's RSS every
50 ms. Memory "stays flat" when the peak during the export is close to the RSS before it, whatever
the number of rows. Ends with `export_rows_per_s`.
"""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import urlsplit

import psutil
from _common import create_staff, server, services, sign_in
from contacts import seed

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
MB = 1024 * 1024


def _server_process(url: str) -> psutil.Process:
    port = urlsplit(url).port
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            return psutil.Process(connection.pid)
    raise RuntimeError(f"no process listens on port {port}")


class RssSampler(threading.Thread):
    def __init__(self, process: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.running = process, process.memory_info().rss, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)


def export(url: str) -> dict[str, float]:
    create_staff("export-bench@example.com", role="viewer")
    client = sign_in(url, "export-bench@example.com")
    client.get("/contacts").raise_for_status()  # warm: templates, session, connection pool
    process = _server_process(url)
    before = process.memory_info().rss
    sampler = RssSampler(process)
    sampler.start()
    lines = size = 0
    started = time.perf_counter()
    first_byte = None
    with client.stream("GET", "/contacts/export", timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            first_byte = first_byte or time.perf_counter()
            lines += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    rows = lines - 1  # the header
    return {
        "export_rows": rows,
        "export_mb": round(size / 1e6, 1),
        "export_s": round(elapsed, 1),
        "export_first_byte_ms": round(((first_byte or started) - started) * 1000, 1),
        "server_rss_before_mb": round(before / MB),
        "server_rss_peak_mb": round(sampler.peak / MB),
        "server_rss_growth_mb": round((sampler.peak - before) / MB),
        "export_rows_per_s": round(rows / elapsed),
    }


def main() -> None:
    with services() as dsn:
        print(f"Seeding {CONTACTS:,} contacts ...", flush=True)
        figures: dict[str, float] = {"contacts": CONTACTS, **seed(dsn, CONTACTS)}
        with server() as url:
            print("Exporting ...", flush=True)
            figures.update(export(url))
    if figures["export_rows"] != CONTACTS:
        raise SystemExit(f"exported {figures['export_rows']:,} rows of {CONTACTS:,}")
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
