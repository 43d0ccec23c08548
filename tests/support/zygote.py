"""Worker processes forked from a process that has already imported the libraries a worker uses.

A worker started as `python -m dramatiq webapp.worker` spends about 3 s of CPU importing before it
takes a message, two thirds of it in SQLAlchemy, psycopg, httpx and the other libraries; the suite
starts well over a hundred workers on a machine whose cores it keeps busy. So each test process
keeps one zygote: a single-threaded process that imported PRELOAD once and forks a worker on
request. The fork then runs dramatiq's own command line, in a process group of its own, with the test's
environment and log file, and imports the app itself: nothing of the app (whose settings come from
the environment at import) is imported before the test's environment is in place, but its models,
queries and schemas, which read no settings (the zygote checks that it never made the settings).

Libraries that read the environment when imported (dramatiq does) are not preloaded.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "aiosmtplib",
    "httpx",
    "redis.asyncio",
    "email_validator",
    "jinja2.sandbox",
    "markdown_it",
    "ua_parser",
    "babel.messages.mofile",
    "inscriptis",
    "msgspec",
    "uvloop",
    "cryptography.hazmat.primitives.serialization",
)
APP_LAYERS = ("models", "queries", "schemas")  # webapp/<feature>/<layer>.py or <layer>/*.py


class ForkedProcess:
    """What WorkerProcess needs of a subprocess.Popen, for a process that is not this one's child:
    its exit is seen through a pidfd (the zygote reaps it, so its exit status is not known)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self._ended = False

    def poll(self) -> int | None:
        if not self._ended and select.select([self._pidfd], [], [], 0)[0]:
            self._ended = True
            os.close(self._pidfd)
        return 0 if self._ended else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended and not select.select([self._pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self.poll() or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)


class Zygote:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def fork(self, argv: list[str], env: dict[str, str], log_path: Path) -> ForkedProcess:
        """Run `python -m <argv>` in a fork, with `env` and its output in log_path."""
        assert self.proc.stdin and self.proc.stdout
        log_path.write_bytes(b"")  # empty before this returns, as a Popen's log file would be
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log_path)}) + "\n")
        self.proc.stdin.flush()
        return ForkedProcess(int(self.proc.stdout.readline()))


_zygote: Zygote | None = None


def zygote() -> Zygote:
    """This test process's zygote, started the first time it is needed."""
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = Zygote()
    return _zygote


# ---- in the zygote ---------------------------------------------------------------------------


def _run_in_fork(request: dict[str, Any]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote's own setting: the worker waits for its children
    os.setpgid(0, 0)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    os.environ.clear()
    os.environ.update(request["env"])
    module, *args = request["argv"]
    sys.argv = [module, *args]
    code = 1
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else (0 if ended.code is None else 1)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _app_modules() -> list[str]:
    paths = [path for layer in APP_LAYERS for path in (ROOT / "webapp").glob(f"*/{layer}.py")]
    paths += [path for layer in APP_LAYERS for path in (ROOT / "webapp").glob(f"*/{layer}/*.py")]
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for path in paths)


def _serve() -> None:
    for name in (*PRELOAD, *_app_modules()):
        importlib.import_module(name)
    from webapp.core.config import get_settings

    assert get_settings.cache_info().currsize == 0, "a preloaded module read the settings"
    assert "dramatiq" not in sys.modules, "dramatiq reads the environment when imported"
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped as they end: no zombies
    replies = os.dup(1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os.close(replies)
            _run_in_fork(request)
        with contextlib.suppress(OSError):  # a group of its own before the test may signal it (the fork does it too)
            os.setpgid(pid, pid)
        os.write(replies, f"{pid}\n".encode())


if __name__ == "__main__":
    _serve()
