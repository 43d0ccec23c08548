"""A real RabbitMQ for the broker tests: Debian's rabbitmq-server (`make test` installs it), started
by the test as the current user (not the package's system service) with a node name, ports, data,
logs and Erlang cookie of its own in a temporary directory, listening on 127.0.0.1 only.

Erlang needs its port mapper (epmd) to name a node: this one gets a port of its own too, so it
never meets another test's or the system's, and is stopped with the server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.smtp import free_port

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
EPMD = "epmd"
START_TIMEOUT = 90.0  # Erlang boots slowly on a busy 2-core machine

CONFIG = """\
listeners.tcp.default = 127.0.0.1:{port}
loopback_users.guest = true
log.console = false
log.file.level = warning
"""


class RabbitMQ:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mr-rabbitmq-"))
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.root),  # the Erlang cookie goes here
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODENAME": f"mailroom-test-{self.port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
        }

    def __enter__(self) -> RabbitMQ:
        (self.root / "rabbitmq.conf").write_text(CONFIG.format(port=self.port))
        (self.root / "advanced.config").write_text("[].\n")
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text("[].\n")
        self.process = subprocess.Popen(
            [SERVER],
            env=self._env(),
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_it_answers()
        return self

    def _wait_until_it_answers(self) -> None:
        """Until the AMQP port speaks AMQP: the listener opens only once the broker has booted."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                    conn.sendall(b"AMQP\x00\x00\x09\x01")
                    if conn.recv(1):  # connection.start
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                raise RuntimeError(f"RabbitMQ did not start: {self._log()}")
            time.sleep(0.25)

    def _log(self) -> str:
        logs = sorted((self.root / "log").glob("*.log")) if (self.root / "log").exists() else []
        return "\n".join(path.read_text(errors="replace")[-4000:] for path in logs)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        subprocess.run([EPMD, "-port", str(self.epmd_port), "-kill"], capture_output=True, env=self._env())
        shutil.rmtree(self.root, ignore_errors=True)
