"""A small SMTP server on loopback that offers PIPELINING, answers each command in order and records
every read as it arrived (to see what a client wrote together), refusing chosen recipients and, when
told, dropping the connection instead of giving one chosen reply (to break a transfer at that point)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

END_OF_DATA = "."  # names the reply to a message's content in `ServerLog.cut_before`


@dataclass
class ServerLog:
    refuse: frozenset[str] = frozenset()  # recipients answered 550 5.1.1
    # (command, n): the connection is dropped instead of answering the n-th such command ("MAIL",
    # "RCPT", "DATA", or END_OF_DATA for a message's content), counted from 1 over the server's life
    cut_before: tuple[str, int] | None = None
    reads: list[bytes] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)  # every content received, answered or not
    answered: Counter[str] = field(default_factory=Counter)


class PipeliningServer(asyncio.Protocol):
    def __init__(self, log: ServerLog) -> None:
        self.log = log
        self.buffer = b""
        self.in_data = False
        self.recipients: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 test ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.log.reads.append(data)
        self.buffer += data
        while not self.transport.is_closing():
            if self.in_data:
                content, found, rest = self.buffer.partition(b"\r\n.\r\n")
                if not found:
                    return
                self.log.messages.append(content.replace(b"\r\n..", b"\r\n.") + b"\r\n")
                self.buffer, self.in_data = rest, False
                self.reply(END_OF_DATA, b"250 2.0.0 queued\r\n")
                continue
            line, found, rest = self.buffer.partition(b"\r\n")
            if not found:
                return
            self.buffer = rest
            self.reply(line[:4].decode().upper(), self.answer(line.decode()))

    def reply(self, command: str, reply: bytes) -> None:
        self.log.answered[command] += 1
        if self.log.cut_before == (command, self.log.answered[command]):
            self.transport.close()
        else:
            self.transport.write(reply)

    def answer(self, line: str) -> bytes:
        verb = line[:4].upper()
        if verb == "EHLO":
            return b"250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        if verb == "RCPT":
            address = line.partition("<")[2].rstrip(">")
            if address in self.log.refuse:
                return b"550 5.1.1 no such mailbox\r\n"
            self.recipients.append(address)
        if verb == "DATA":
            if not self.recipients:
                return b"554 5.5.1 no valid recipients\r\n"
            self.in_data = True
            return b"354 go ahead\r\n"
        if verb in ("MAIL", "RSET"):
            self.recipients = []
        if verb == "QUIT":
            return b"221 bye\r\n"
        return b"250 ok\r\n"


@asynccontextmanager
async def pipelining_server(log: ServerLog) -> AsyncIterator[int]:
    """Listens on a free loopback port while the block runs; yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    listening = await asyncio.get_running_loop().create_server(lambda: PipeliningServer(log), "127.0.0.1", port)
    try:
        yield port
    finally:
        listening.close()
