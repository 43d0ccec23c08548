"""A message's SMTP transaction is pipelined (RFC 2920) when the server offers it: MAIL FROM, RCPT TO
and DATA arrive together, or MAIL FROM and RCPT TO when the handover must be recorded between the
recipient's acceptance and DATA. Against a real server on loopback that records what arrived in
each read."""

from __future__ import annotations

import email

import pytest
from redis.asyncio import Redis

from tests.support.pipelining_server import ServerLog, pipelining_server
from webapp.delivery.mailer import Handover, PermanentFailure, Stopped
from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import SmtpTarget

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\n.a line with a dot\r\nbye\r\n"


@pytest.fixture
async def server():
    log = ServerLog(frozenset({"gone@example.com"}))
    async with pipelining_server(log) as port:
        pool = ServerPool(SmtpTarget(id=1, name="test", host="127.0.0.1", port=port), Redis(), lambda: True)
        yield log, pool
        await pool.close()


def reads_with(reads: list[bytes], *commands: bytes) -> list[bytes]:
    return [read for read in reads if all(command in read for command in commands)]


async def test_mail_rcpt_and_data_go_in_one_write_and_the_session_is_reused(server):
    log, pool = server
    for recipient in ("ada@example.com", "bob@example.com"):
        await pool.send("news@example.com", recipient, MESSAGE, Handover(lambda: True))
    assert len(reads_with(log.reads, b"MAIL FROM:<news@example.com>", b"RCPT TO:<ada@example.com>", b"DATA\r\n")) == 1
    assert len(reads_with(log.reads, b"MAIL FROM:<news@example.com>", b"RCPT TO:<bob@example.com>", b"DATA\r\n")) == 1
    assert len(reads_with(log.reads, b"EHLO")) == 1  # one session carried both
    assert log.messages == [MESSAGE, MESSAGE]  # dot-stuffed on the way, whole at the server
    assert email.message_from_bytes(log.messages[0])["Subject"] == "hi"


async def test_the_handover_is_recorded_after_the_recipient_is_accepted_and_before_data(server):
    log, pool = server
    seen_at_handover: list[bytes] = []

    async def hand_over() -> bool:
        seen_at_handover.extend(log.reads)
        return True

    await pool.send("news@example.com", "ada@example.com", MESSAGE, Handover(lambda: True, before_data=hand_over))
    assert reads_with(seen_at_handover, b"MAIL FROM:<news@example.com>", b"RCPT TO:<ada@example.com>")
    assert not reads_with(seen_at_handover, b"DATA\r\n")
    assert log.messages == [MESSAGE]


async def test_a_handover_that_may_not_go_sends_no_data_and_resets(server):
    log, pool = server

    async def refused_hand_over() -> bool:
        return False

    with pytest.raises(Stopped):
        await pool.send(
            "news@example.com", "ada@example.com", MESSAGE, Handover(lambda: True, before_data=refused_hand_over)
        )
    await pool.send("news@example.com", "bob@example.com", MESSAGE, Handover(lambda: True))
    assert log.messages == [MESSAGE]
    assert not reads_with(log.reads, b"RCPT TO:<ada@example.com>", b"DATA")
    assert reads_with(log.reads, b"RSET")


async def test_a_refused_mailbox_in_a_pipelined_group_is_a_bounce_and_the_session_goes_on(server):
    log, pool = server
    with pytest.raises(PermanentFailure) as refused:
        await pool.send("news@example.com", "gone@example.com", MESSAGE, Handover(lambda: True))
    assert refused.value.mailbox_refused and "5.1.1" in str(refused.value)
    await pool.send("news@example.com", "ada@example.com", MESSAGE, Handover(lambda: True))
    assert log.messages == [MESSAGE] and len(reads_with(log.reads, b"EHLO")) == 1


async def test_bare_line_ends_go_as_crlf_and_a_crlf_message_goes_as_it_is(server):
    log, pool = server
    for message in (MESSAGE.replace(b"\r\n", b"\n"), MESSAGE.replace(b"\r\nbye", b"\rbye"), MESSAGE):
        await pool.send("news@example.com", "ada@example.com", message, Handover(lambda: True))
    assert log.messages == [MESSAGE, MESSAGE, MESSAGE]
