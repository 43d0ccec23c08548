"""A real streaming replica of the test session's PostgreSQL, made with the binaries of the embedded
server (pgserver bundles pg_basebackup and pg_ctl): a base backup of the primary over its Unix
socket, started as a hot standby on a socket directory of its own, streaming the primary's WAL.

As root, PostgreSQL refuses to run; like pgserver, the replica then runs as the `pgserver` user."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from pgserver import _commands as pg
from sqlalchemy import make_url

SYSTEM_USER = "pgserver" if os.getuid() == 0 else None
CATCH_UP_TIMEOUT = 30.0


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Replica:
    def __init__(self, primary_url: str) -> None:
        self.primary_url = primary_url
        self.root = Path(tempfile.mkdtemp(prefix="mr-replica-"))
        self.pgdata, self.sockets = self.root / "pgdata", self.root / "sockets"

    @property
    def url(self) -> str:
        """The primary's SQLAlchemy URL with the replica's socket directory."""
        url = make_url(self.primary_url)
        return url.set(query={**url.query, "host": str(self.sockets)}).render_as_string(hide_password=False)

    def _run(self, command: Any, args: list[str], **kwargs: Any) -> str:
        return str(command(args, user=SYSTEM_USER, timeout=120, **kwargs))

    def __enter__(self) -> Replica:
        self.sockets.mkdir(parents=True)
        self.root.chmod(0o777)
        self.sockets.chmod(0o777)
        primary = make_url(self.primary_url)
        # -R writes standby.signal and the primary's conninfo: the copy starts as a streaming standby.
        self._run(
            pg.pg_basebackup,
            ["-D", str(self.pgdata), "-h", primary.query["host"], "-U", "postgres", "-X", "stream", "-R", "-c", "fast"],
        )
        self._run(
            pg.pg_ctl,
            ["-w", "-o", '-h ""', "-o", f"-k {self.sockets}", "-l", str(self.root / "replica.log"), "start"],
            pgdata=self.pgdata,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(pg.pg_ctl, ["-w", "-m", "immediate", "stop"], pgdata=self.pgdata)
        shutil.rmtree(self.root, ignore_errors=True)

    def _execute(self, statement: str) -> Any:
        with psycopg.connect(libpq(self.url), autocommit=True) as conn:
            row = conn.execute(statement).fetchone()
            return row[0] if row else None

    def pause(self) -> None:
        """Stop applying the primary's changes: the replica keeps showing what it has now."""
        self._execute("SELECT pg_wal_replay_pause()")

    def catch_up(self) -> None:
        """Apply the primary's changes again, and wait until everything written so far is applied."""
        self._execute("SELECT pg_wal_replay_resume()")
        with psycopg.connect(libpq(self.primary_url), autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + CATCH_UP_TIMEOUT
        while not self._execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not catch up")
            time.sleep(0.05)
