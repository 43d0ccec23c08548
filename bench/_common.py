"""Shared bench helpers: services in a scratch directory, the real server, sign-in and timing.

Not a bench itself (the Makefile skips bench/_*.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as `python bench/x.py` from anywhere: import webapp from this tree

BENCH_PASSWORD = "bench password 1234"


@contextlib.contextmanager
def services() -> Iterator[str]:
    """Migrated PostgreSQL + Redis for one bench run; yields the libpq URL of the database.

    DATABASE_URL / REDIS_URL are used when set (point them at scratch servers: benches write data);
    otherwise embedded servers run under a temporary directory that is removed afterwards.
    """
    from webapp.core import embedded

    data_dir = Path(tempfile.mkdtemp(prefix="mr-bench-"))
    os.environ["MAILROOM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("MAILROOM_SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("LOG_LEVEL", "warning")
    running = None
    try:
        if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
            running = embedded.start(
                data_dir, need_postgres=not os.environ.get("DATABASE_URL"), need_redis=not os.environ.get("REDIS_URL")
            )
            os.environ.setdefault("DATABASE_URL", running.database_url)
            os.environ.setdefault("REDIS_URL", running.redis_url)
        from webapp.cli import migrate
        from webapp.core.config import get_settings

        get_settings.cache_clear()
        migrate()
        yield os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    finally:
        if running is not None:
            running.stop()
        embedded.wipe(data_dir)


def create_staff(email: str, role: str = "viewer") -> None:
    subprocess.run(
        [sys.executable, "-m", "webapp.cli", "create-user", email, "--role", role, "--password", BENCH_PASSWORD],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The real app (`mailroom run`: uvicorn, one worker) in a subprocess on 127.0.0.1."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MAILROOM_HOST": "127.0.0.1", "MAILROOM_PORT": str(port), "MAILROOM_BASE_URL": url}
    log = Path(tempfile.mkstemp(prefix="mr-bench-server-", suffix=".log")[1])
    with log.open("w") as out:  # the server keeps its own copy of the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"web server did not start; see {log}")
            time.sleep(0.1)
        yield url
    except BaseException:
        print("---- server log (tail) ----", *log.read_text().splitlines()[-40:], sep="\n", file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink()


def sign_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": BENCH_PASSWORD},
        headers={"x-csrftoken": client.cookies.get("mailroom_csrf", "")},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return client


def server_ms(response: httpx.Response) -> float:
    """The app's own time for a request, from its `Server-Timing: app;dur=<ms>` header."""
    for metric in response.headers.get("server-timing", "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app" and params.startswith("dur="):
            return float(params[4:])
    raise RuntimeError("response has no Server-Timing app;dur= header")


def measure(
    request: Callable[[], httpx.Response], runs: int = 200, warmup: int = 20
) -> tuple[list[float], list[float]]:
    """(server ms, client ms) for `runs` sequential requests after `warmup` unmeasured ones."""
    for _ in range(warmup):
        request().raise_for_status()
    server, client = [], []
    for _ in range(runs):
        start = time.perf_counter()
        response = request()
        client.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        server.append(server_ms(response))
    return server, client


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
