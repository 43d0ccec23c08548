"""A real SMTP server for tests (aiosmtpd), recording what it accepts; optionally refusing some
recipients with a chosen reply, to exercise retries and failures, holding messages in DATA until
the test lets them through, closing idle sessions after a timeout, or offering PIPELINING."""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
import time
from collections.abc import Callable
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class RecordingHandler:
    def __init__(
        self,
        reply_for: Callable[[str, int], str | None] | None = None,
        holds: Callable[[str], bool] = lambda recipient: True,
    ) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # the bytes as received, for checks such as DKIM signatures
        self.senders: list[str] = []  # each message's envelope sender (MAIL FROM)
        self.arrivals: list[float] = []  # time.monotonic() of each accepted message
        self.attempts: dict[str, int] = {}
        self.reply_for = reply_for
        self.lock = threading.Lock()
        self.open = threading.Event()  # cleared: DATA waits (the message is handed over, not yet accepted)
        self.open.set()
        self.waiting = 0  # messages waiting in DATA while held
        self.holds = holds  # which recipients' messages wait while held (all by default)
        self.pipelining = False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        """With `pipelining`, offers PIPELINING (RFC 2920) as Postfix, Exim and the big providers
        do; aiosmtpd reads pipelined commands in order but does not say so itself."""
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            count = self.attempts[address] = self.attempts.get(address, 0) + 1
        reply = self.reply_for(address, count) if self.reply_for else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not self.open.is_set() and self.holds(envelope.rcpt_tos[0]):
            with self.lock:
                self.waiting += 1
            await asyncio.get_running_loop().run_in_executor(None, self.open.wait)
            with self.lock:
                self.waiting -= 1
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.content)
            self.senders.append(envelope.mail_from)
            self.arrivals.append(time.monotonic())
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.messages]

    def refusals(self) -> int:
        """RCPT commands answered with a refusal."""
        with self.lock:
            return sum(self.attempts.values()) - len(self.messages) - self.waiting


class _CountingSMTP(SMTP):
    """aiosmtpd's session, counting the sessions open on the sink."""

    def __init__(self, *args, sessions: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = sessions

    def connection_made(self, transport) -> None:
        self._sessions[0] += 1
        super().connection_made(transport)

    def connection_lost(self, exc) -> None:
        self._sessions[0] -= 1
        super().connection_lost(exc)


class _Controller(Controller):
    def __init__(self, *args, sessions: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sessions = sessions

    def factory(self):
        return _CountingSMTP(self.handler, sessions=self._sessions, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """`port`: listen there (a port a configured server points at); `idle_timeout`: seconds after
    which the server closes a quiet session, as real servers do; `handler`: a RecordingHandler that
    behaves otherwise; `pipelining`: offer PIPELINING, so that messages go joined (one write from a
    message's end of data to the next one's DATA); `tls` and `certificate`: TLS from the start
    ("tls") or after STARTTLS ("starttls") with this server context."""

    def __init__(
        self,
        reply_for=None,
        *,
        port: int | None = None,
        idle_timeout: float | None = None,
        handler: RecordingHandler | None = None,
        pipelining: bool = False,
        tls: str = "none",
        certificate: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler or RecordingHandler(reply_for)
        self.handler.pipelining = pipelining
        self.port = port or free_port()
        self._sessions = [0]
        kwargs: dict = {"timeout": idle_timeout} if idle_timeout else {}
        if tls == "tls":
            kwargs["ssl_context"] = certificate
        elif tls == "starttls":
            kwargs |= {"tls_context": certificate, "require_starttls": True}
        self.controller = _Controller(
            self.handler, hostname="127.0.0.1", port=self.port, sessions=self._sessions, **kwargs
        )

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.handler.open.set()
        self.controller.stop()

    @property
    def messages(self):
        return self.handler.messages

    @property
    def sessions(self) -> int:
        """SMTP sessions open now."""
        return self._sessions[0]

    def hold(self) -> None:
        """From now on, messages wait in DATA (handed to SMTP, not accepted) until release()."""
        self.handler.open.clear()

    def release(self) -> None:
        self.handler.open.set()

    @property
    def held(self) -> int:
        """Messages waiting in DATA now."""
        with self.handler.lock:
            return self.handler.waiting
