"""What a broken transfer means for each message on a pooled session, and messages joined on it: a
message's end of data goes in one write with the next waiting message's MAIL FROM, RCPT TO and DATA
(RFC 2920). Against real servers on loopback: one that drops the connection at a chosen reply, and
aiosmtpd."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.support.pipelining_server import END_OF_DATA, ServerLog, pipelining_server
from webapp.delivery.mailer import Handover, InDoubt, ServerPool
from webapp.delivery.smtp_session import SmtpTarget

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"


def pool_for(port: int, connections: int = 1) -> ServerPool:
    target = SmtpTarget(id=1, name="test", host="127.0.0.1", port=port, max_connections=connections)
    return ServerPool(target, Redis(), lambda: True)


async def test_a_message_cut_off_after_its_content_went_is_in_doubt():
    log = ServerLog(cut_before=(END_OF_DATA, 1))
    async with pipelining_server(log) as port:
        pool = pool_for(port)
        with pytest.raises(InDoubt):
            await pool.send("news@example.com", "ada@example.com", MESSAGE, Handover(lambda: True))
    assert log.messages == [MESSAGE], "the server had the whole message when the connection broke"
