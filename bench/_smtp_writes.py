"""What the SMTP dialogue alone costs a process per message, and what writing the end of one
message's data together with the next message's MAIL FROM, RCPT TO and DATA (RFC 2920) would save.

    python bench/_smtp_writes.py        # BENCH_MESSAGES=20000, needs Postfix's smtp-sink

Five sessions to smtp-sink (opened by `open_session`, as a worker opens them) each carry a share of
the messages (9 KB each), one coroutine per session, none of the pipeline's tasks, routing or
records: "today" sends each message as `SmtpSession.envelope` and `SmtpSession.content` do (two
writes, two waits for replies); "joined" writes the first envelope alone, then each message's
content, its end-of-data dot and the next envelope in one write (one write, one wait). It prints
the CPU time of this process per message for each, twice, alternating; then "pool": the messages
through `ServerPool.send` as the pipeline sends a batch (a task each), which joins them.
Not a bench: the Makefile skips bench/_*.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable

from _common import _free_port
from redis.asyncio import Redis

from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import SmtpSession, SmtpTarget, envelope_lines, open_session

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "20000"))
SESSIONS = 5
MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Hello\r\n\r\n" + (b"x" * 76 + b"\r\n") * 115


def sender(i: int) -> str:
    return f"bounce-{i}@example.com"


def recipient(i: int) -> str:
    return f"user{i}@example.net"


def envelope(i: int) -> bytes:
    return f"MAIL FROM:<{sender(i)}>\r\nRCPT TO:<{recipient(i)}>\r\nDATA\r\n".encode()


async def today(session: SmtpSession, ids: list[int]) -> None:
    for i in ids:
        await session.envelope(envelope_lines(sender(i), recipient(i), data=True))
        session.write_content(MESSAGE)
        await session.accepted()


async def joined(session: SmtpSession, ids: list[int]) -> None:
    session.transport.write(envelope(ids[0]))
    for n in range(len(ids)):
        for success in (2, 2, 3):
            reply = await session.replies.next()
            assert reply.code // 100 == success, reply
        following = envelope(ids[n + 1]) if n + 1 < len(ids) else b""
        session.transport.write(MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\n" + following)
        reply = await session.replies.next()
        assert reply.code // 100 == 2, reply


async def cpu_per_message(port: int, way: Callable[[SmtpSession, list[int]], Awaitable[None]]) -> float:
    target = SmtpTarget(None, "sink", "127.0.0.1", port)
    sessions = [await open_session(target) for _ in range(SESSIONS)]
    started = time.process_time()
    await asyncio.gather(*(way(s, list(range(k, MESSAGES, SESSIONS))) for k, s in enumerate(sessions)))
    used = time.process_time() - started
    for session in sessions:
        session.close()
    return 1e6 * used / MESSAGES


async def pool_cpu_per_message(port: int) -> float:
    """Every message through `ServerPool.send` at once, a task each (as a batch goes), SESSIONS connections."""
    pool = ServerPool(SmtpTarget(None, "sink", "127.0.0.1", port, max_connections=SESSIONS), Redis(), lambda: True)
    started = time.process_time()
    await asyncio.gather(*(pool.send(sender(i), recipient(i), MESSAGE) for i in range(MESSAGES)))
    used = time.process_time() - started
    await pool.close()
    return 1e6 * used / MESSAGES


def main() -> None:
    port = _free_port()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", "root", f"127.0.0.1:{port}", "100"])
    time.sleep(0.5)
    try:
        for way in (today, joined, today, joined):
            print(f"{way.__name__}: {asyncio.run(cpu_per_message(port, way)):.0f} us of CPU a message")
        for _ in range(2):
            print(f"pool: {asyncio.run(pool_cpu_per_message(port)):.0f} us of CPU a message")
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
