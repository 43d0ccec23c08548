"""A real SMTP server for tests (aiosmtpd), recording what it accepts; optionally refusing
some recipients with a chosen reply, to exercise retries and failures."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Callable
from email import policy

from aiosmtpd.controller import Controller


class RecordingHandler:
    def __init__(self, reply_for: Callable[[str, int], str | None] | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # the bytes as received, for checks such as DKIM signatures
        self.attempts: dict[str, int] = {}
        self.reply_for = reply_for
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            count = self.attempts[address] = self.attempts.get(address, 0) + 1
        reply = self.reply_for(address, count) if self.reply_for else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.lock:
            return [m["To"] for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, reply_for=None) -> None:
        self.handler = RecordingHandler(reply_for)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self):
        return self.handler.messages
