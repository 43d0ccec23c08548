"""The built-in capture SMTP server for development: accepts every message and stores it in
outbox_messages for the Outbox page instead of delivering it. `mailroom capture-smtp --port 8025`."""

from __future__ import annotations

import asyncio
import signal

from aiosmtpd.smtp import SMTP, Envelope, Session

from webapp.core.db import get_sessionmaker
from webapp.outbox import service as outbox

HOSTNAME = "mailroom-capture"  # named, so aiosmtpd does not look up this machine's FQDN (slow in some containers)


class CaptureHandler:
    """aiosmtpd handler: one committed outbox row per message, accepted only once stored."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        async with get_sessionmaker()() as db, db.begin():
            message = await outbox.store(db, envelope.mail_from or "", envelope.rcpt_tos, raw)
        return f"250 2.0.0 Captured as outbox message {message.id}"


async def start(host: str, port: int) -> asyncio.Server:
    """Listen in the running event loop; close the returned server to stop."""
    handler = CaptureHandler()
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: SMTP(handler, hostname=HOSTNAME, enable_SMTPUTF8=True), host, port)


async def serve(host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM."""
    server = await start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"Capture SMTP server on {host}:{port}: mail is stored for the Outbox page, never delivered.", flush=True)
    async with server:
        await stop.wait()
