"""A real SpamAssassin for the content check tests: Debian's spamd (packages spamd and
spamassassin; `make test` installs them), started by the test on 127.0.0.1 with the rules the
package ships, no network tests (-L) and no user preferences. As root, spamd hands its children to
the package's own user (debian-spamd), so nothing runs as root that reads a message."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.smtp import free_port

SPAMD = "/usr/sbin/spamd"
START_TIMEOUT = 90.0  # spamd compiles its rules at start: tens of seconds on a busy machine


class Spamd:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mr-spamd-"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Spamd:
        self.root.chmod(0o755)
        command = [
            SPAMD,
            f"--listen=127.0.0.1:{self.port}",
            "--local",
            "--nouser-config",
            "--max-children=1",
            "--min-children=1",
            f"--pidfile={self.root}/spamd.pid",
            f"--syslog={self.root}/spamd.log",
        ]
        if os.getuid() == 0:
            command.append("--username=debian-spamd")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_until_it_answers()
        return self

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                    conn.sendall(b"PING SPAMC/1.5\r\n\r\n")
                    if b"PONG" in conn.recv(100):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                log = (self.root / "spamd.log").read_text() if (self.root / "spamd.log").exists() else ""
                raise RuntimeError(f"spamd did not start: {log}")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


class SilentServer:
    """A TCP server that takes connections and never answers: a spamd that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
