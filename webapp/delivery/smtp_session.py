"""One SMTP session with a server: which server (SmtpTarget), opening a session (connect, TLS,
sign-in: aiosmtplib), whether a server answers at all, addresses as SMTP takes them, and the mail
transactions (SmtpSession).

A transaction is written with PIPELINING (RFC 2920) when the server offers it: MAIL FROM, RCPT TO
and (when nothing has to happen in between) DATA go in one write, and their replies are read in
order, so a message costs two round trips instead of four; the next message's envelope may go in
the same write as a message's end of data (the pool decides: mailer.py). aiosmtplib reads one reply per command
sent, so once the session is open its transport is handed to SmtpSession's own reply reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aiosmtplib

from webapp.core.addresses import RefusedAddress, checked_address, host_port
from webapp.core.connect_errors import connect_failure

CONNECT_TIMEOUT = 10.0
REPLY_TIMEOUT = 30.0  # seconds the server may take to answer a command (or the content)
SERVER_COOLDOWN_SECONDS = 30.0
PRIVATE_REFUSED = "tick “Allow a private address” on the SMTP server's settings to send through it."
MAX_REPLY_BYTES = 64 * 1024  # a server that sends more without ending its reply is broken
LINE_ENDS = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class SmtpTarget:
    id: int | None
    name: str
    host: str
    port: int
    tls_mode: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    rate_per_second: int = 0  # 0 = unlimited
    rate_per_hour: int = 0
    rate_per_day: int = 0
    max_connections: int = 5
    priority: int = 0  # lower is used first; the next priority only when these cannot take mail
    # An admin's choice for a configured server; the operator's own (MAILROOM_DEV_SMTP) is trusted.
    allow_private: bool = True

    @property
    def key(self) -> str:
        """Names the server in Redis, for the limits every worker shares."""
        return str(self.id) if self.id is not None else f"{self.host}:{self.port}"


class ServerDown(Exception):
    """This server cannot be used right now (refused, timed out, authentication failed)."""

    def __init__(self, message: str, seconds: float = SERVER_COOLDOWN_SECONDS) -> None:
        super().__init__(message)
        self.seconds = seconds


class QuotaSpent(ServerDown):
    """The server's hourly or daily budget is spent until the window ends."""


def reply_text(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}".strip()


def smtp_address(address: str) -> tuple[str, bool]:
    """The address as sent in MAIL FROM/RCPT TO, and whether it needs SMTPUTF8: an internationalised
    domain goes as punycode; only a non-ASCII local part needs the extension."""
    local, _, domain = address.rpartition("@")
    with contextlib.suppress(UnicodeError):  # not IDNA-encodable: sent as it is
        domain = domain.encode("idna").decode("ascii")
    address = f"{local}@{domain}"
    return address, not address.isascii()


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class Refused(Exception):
    """The server answered a command with a reply that does not let the transaction go on.
    of_sender: the command was MAIL FROM, so the reply is about the sender, whatever its code says."""

    def __init__(self, reply: Reply, *, of_sender: bool = False) -> None:
        super().__init__(str(reply))
        self.reply = reply
        self.of_sender = of_sender


class _Replies(asyncio.Protocol):
    """The server's replies as they arrive, however many one packet holds (pipelining)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.lines: list[bytes] = []  # of a multi-line reply not complete yet
        self.ready: deque[Reply] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.closed: OSError | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        start = 0
        while (end := self.buffer.find(b"\n", start)) >= 0:
            line, start = bytes(self.buffer[start:end]).rstrip(b"\r"), end + 1
            self.lines.append(line)
            if line[3:4] != b"-":  # the reply's last line
                self._complete()
        del self.buffer[:start]
        if len(self.buffer) > MAX_REPLY_BYTES:
            self.connection_lost(ConnectionError("the server's reply is too long"))
        self._wake()

    def _complete(self) -> None:
        lines, self.lines = self.lines, []
        code = lines[-1][:3]
        if not code.isdigit():
            self.connection_lost(ConnectionError(f"not an SMTP reply: {lines[-1][:100]!r}"))
            return
        text = "\n".join(line[4:].decode("utf-8", "replace").strip() for line in lines)
        self.ready.append(Reply(int(code), text))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is None:
            self.closed = exc if isinstance(exc, OSError) else ConnectionResetError("the server closed the connection")
        self._wake()

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost follows

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def next(self) -> Reply:
        if self.ready:  # pipelined replies often come together: no timer for those already here
            return self.ready.popleft()
        async with asyncio.timeout(REPLY_TIMEOUT):
            while not self.ready:
                if self.closed is not None:
                    raise self.closed
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter
        return self.ready.popleft()


DATA = b"DATA\r\n"


def envelope_lines(sender: str, recipient: str, *, data: bool) -> list[bytes]:
    """MAIL FROM and RCPT TO (and DATA when `data`) for one message, as written; Refused when an
    address holds characters SMTP does not allow."""
    (sender, sender_utf8), (recipient, recipient_utf8) = smtp_address(sender), smtp_address(recipient)
    if any(c in address for address in (sender, recipient) for c in "\r\n<>"):
        raise Refused(Reply(501, "The address contains characters SMTP does not allow."))
    utf8 = " SMTPUTF8" if sender_utf8 or recipient_utf8 else ""
    return [f"MAIL FROM:<{sender}>{utf8}\r\n".encode(), f"RCPT TO:<{recipient}>\r\n".encode()] + [DATA] * data


class SmtpSession:
    """An open session, after greeting, TLS and sign-in. Every method raises Refused when the
    server refuses, and OSError when the connection breaks or the server stays silent for
    REPLY_TIMEOUT (TimeoutError)."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        assert client.transport is not None
        self.pipelining = client.supports_extension("pipelining")
        self.transport = cast(asyncio.WriteTransport, client.transport)
        self.replies = _Replies()
        self.transport.set_protocol(self.replies)

    @property
    def is_connected(self) -> bool:
        return self.replies.closed is None and not self.transport.is_closing()

    def close(self) -> None:
        self.transport.close()

    def _write(self, data: bytes) -> None:
        if not self.is_connected:
            raise self.replies.closed or ConnectionResetError("the connection is closed")
        self.transport.write(data)

    async def _expect(self, success: int) -> Reply:
        reply = await self.replies.next()
        if reply.code // 100 != success:
            raise Refused(reply)
        return reply

    async def command(self, line: str, success: int = 2) -> Reply:
        self._write(line.encode() + b"\r\n")
        return await self._expect(success)

    async def envelope(self, lines: Sequence[bytes], *, written: bool = False) -> None:
        """A message's envelope (`envelope_lines`): written together when the server pipelines,
        unless `written` (it went with the previous message's end of data), each reply read in
        order; Refused with the first reply that is not a go-ahead."""
        data = lines[-1] == DATA
        successes = [2] * (len(lines) - data) + [3] * data
        if not self.pipelining:
            for index, (line, success) in enumerate(zip(lines, successes, strict=True)):
                self._write(line)
                reply = await self.replies.next()
                if reply.code // 100 != success:
                    raise Refused(reply, of_sender=index == 0)
            return
        if not written:
            self._write(b"".join(lines))
        replies = [await self.replies.next() for _ in lines]
        refused = [i for i, (r, success) in enumerate(zip(replies, successes, strict=True)) if r.code // 100 != success]
        if refused:
            if data and replies[-1].code // 100 == 3:  # DATA went ahead all the same: end it empty
                self._write(b".\r\n")
                await self.replies.next()
            raise Refused(replies[refused[0]], of_sender=refused[0] == 0)

    def write_content(self, message: bytes, then: bytes = b"") -> None:
        """The message after DATA's go-ahead, dot-stuffed and ended, and `then` in the same write
        (the next message's envelope: RFC 2920 lets it follow the end of data); OSError when
        nothing could go."""
        if not message.count(b"\r\n") == message.count(b"\n") == message.count(b"\r"):  # bare CR or LF
            message = LINE_ENDS.sub(b"\r\n", message)  # ~4x the counts' cost, for what is rarely there
        if not message.endswith(b"\r\n"):
            message += b"\r\n"
        if message.startswith(b"."):
            message = b"." + message
        self._write(message.replace(b"\r\n.", b"\r\n..") + b".\r\n" + then)

    async def accepted(self) -> None:
        """The server's acceptance of the content written."""
        await self._expect(2)

    async def quit(self) -> None:
        try:
            await self.command("QUIT")
        finally:
            self.close()


async def open_session(t: SmtpTarget) -> SmtpSession:
    """A connected (and signed-in) SMTP session with the server."""
    client = aiosmtplib.SMTP(
        hostname=t.host,
        port=t.port,
        timeout=CONNECT_TIMEOUT,
        use_tls=t.tls_mode == "tls",
        start_tls=t.tls_mode == "starttls",
    )
    connected = False
    try:
        if not t.allow_private:  # its name's addresses now, as they may have changed since it was saved
            await checked_address(t.host, t.port, allow_private=False, refused=PRIVATE_REFUSED)
        await client.connect()
        if t.username:
            await client.login(t.username, t.password)
        if client.is_ehlo_or_helo_needed:  # sent before sign-in and TLS, otherwise not yet
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        connected = True
    except RefusedAddress as exc:
        raise ServerDown(str(exc)) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise ServerDown(f"authentication failed: {reply_text(exc)}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        where = host_port(t.host, t.port)  # the server's last error shows it: words that say what to check
        raise ServerDown(connect_failure(exc, where) or f"Cannot connect to {where}: {exc}") from exc
    finally:
        if not connected:
            client.close()
    return SmtpSession(client)


async def answers(target: SmtpTarget) -> bool:
    """Whether the server takes a session now (connects, greets, signs in)."""
    try:
        session = await open_session(target)
    except ServerDown:
        return False
    with contextlib.suppress(Refused, OSError):
        await session.quit()
    session.close()
    return True
