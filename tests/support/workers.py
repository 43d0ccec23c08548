"""Real Dramatiq worker processes for pipeline tests, started and killed like in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.support.logs import log_file
from tests.support.zygote import ForkedProcess, zygote

FAST_TEST_SETTINGS = {
    "MAILROOM_SCHEDULER_INTERVAL": "1",
    "MAILROOM_SEND_LEASE_SECONDS": "5",
    "MAILROOM_SEND_BATCH_SIZE": "50",
    "MAILROOM_SEND_RETRY_BASE_SECONDS": "1",
}

DRAMATIQ_ARGV = ["dramatiq", "webapp.worker", "--processes", "1", "--threads", "4"]  # after `python -m`


class WorkerProcess:
    """lanes: `mailroom worker` options choosing its queues (e.g. ("--queues", "transactional")),
    started as operators do; without them, dramatiq on every queue."""

    def __init__(self, name: str = "worker", lanes: tuple[str, ...] = (), **env: str) -> None:
        self.log_path = log_file(name)
        self.env = {**os.environ, **FAST_TEST_SETTINGS, **env}
        self.proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self.lanes = lanes
        if lanes:
            self.env |= {"MAILROOM_WORKER_PROCESSES": "1", "MAILROOM_WORKER_THREADS": "4"}

    def start(self) -> WorkerProcess:
        if not self.lanes:  # what `mailroom worker` execs, forked from a zygote (tests/support/zygote.py)
            self.proc = zygote().fork(DRAMATIQ_ARGV, self.env, self.log_path)
            return self
        with open(self.log_path, "w") as log:  # the worker keeps its own copy of the file
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "webapp.cli", "worker", *self.lanes],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker gets no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, *, group: bool = True) -> None:
        """SIGTERM as a service manager sends it: to the whole process group (systemd's and
        supervisord's default) or to the main process only."""
        assert self.proc is not None
        if group:
            os.killpg(self.proc.pid, signal.SIGTERM)
        else:
            self.proc.send_signal(signal.SIGTERM)

    def exited(self, timeout: float) -> bool:
        """Whether the worker's main process ended within `timeout` seconds."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker():
    """worker(name, lanes=(), **env) starts a real worker process; all are stopped after the test."""
    workers: list[WorkerProcess] = []

    def start(name: str = "worker", lanes: tuple[str, ...] = (), **env: str) -> WorkerProcess:
        started = WorkerProcess(name, lanes, **env).start()
        workers.append(started)
        return started

    yield start
    for started in workers:
        started.stop()
