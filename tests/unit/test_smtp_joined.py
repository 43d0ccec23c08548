"""What a broken transfer means for each message on a pooled session, and messages joined on it: a
message's end of data goes in one write with the next waiting message's MAIL FROM, RCPT TO and DATA
(RFC 2920). Against real servers on loopback: one that drops the connection at a chosen reply, and
aiosmtpd."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from tests.integration.test_send_stops import wait_for
from tests.support.pipelining_server import END_OF_DATA, ServerLog, pipelining_server
from tests.support.smtp import RecordingHandler, SmtpSink
from webapp.delivery.mailer import Handover, InDoubt, PermanentFailure, Stopped, TransientFailure
from webapp.delivery.smtp_pool import ServerPool
from webapp.delivery.smtp_session import ServerDown, SmtpTarget

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"


def message_to(recipient: str) -> bytes:
    return MESSAGE.replace(b"b@example.com", recipient.encode())


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


def joined(log: ServerLog, recipient: str) -> bool:
    """Whether the server read a message's end of data and this recipient's envelope together."""
    envelope = f".\r\nMAIL FROM:<news@example.com>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode()
    return any(envelope in read for read in log.reads)


async def send_two(pool: ServerPool) -> list[BaseException | None]:
    """ada's message and, waiting for the pool's one connection meanwhile, bob's."""
    sends = [pool.send("news@example.com", to, MESSAGE, Handover(lambda: True)) for to in ("ada@x.org", "bob@x.org")]
    return list(await asyncio.gather(*sends, return_exceptions=True))


async def test_the_next_waiting_message_goes_in_the_same_write_as_the_end_of_data():
    log = ServerLog()
    async with pipelining_server(log) as port:
        pool = pool_for(port)
        assert await send_two(pool) == [None, None]
        await pool.close()
    assert joined(log, "bob@x.org")
    assert log.messages == [MESSAGE, MESSAGE]
    assert sum(b"EHLO" in read for read in log.reads) == 1


@pytest.mark.parametrize(
    ("cut_before", "first", "second"),
    [
        ((END_OF_DATA, 1), InDoubt, ServerDown),  # the first's content went unanswered; the second's never went
        (("MAIL", 2), None, ServerDown),
        (("RCPT", 2), None, ServerDown),
        (("DATA", 2), None, ServerDown),  # no go-ahead for the second's content: it was not sent
        ((END_OF_DATA, 2), None, InDoubt),
    ],
)
async def test_a_connection_broken_in_a_joined_transfer_leaves_in_doubt_only_a_message_whose_content_went(
    cut_before, first, second
):
    log = ServerLog(cut_before=cut_before)
    async with pipelining_server(log) as port:
        outcomes = await send_two(pool_for(port))
    assert joined(log, "bob@x.org")
    assert [type(o) if o else None for o in outcomes] == [first, second]
    assert len(log.messages) == (2 if second is InDoubt else 1)


class RefusingSomeContent(RecordingHandler):
    """Refuses the content of messages to refused-content-* addresses (a 5xx to the end of data)."""

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos[0].startswith("refused-content-"):
            return "554 5.6.0 Message refused"
        return await super().handle_DATA(server, session, envelope)


async def test_refusals_in_a_stream_of_joined_messages_keep_their_meaning_against_aiosmtpd():
    refusals = {"gone": "550 5.1.1 No such user", "later": "451 4.7.1 Try again later", "policy": "554 5.7.1 Denied"}
    handler = RefusingSomeContent(lambda address, attempt: refusals.get(address.partition("-")[0]))
    names = [
        f"{kind}-{i}@example.com" for i in range(8) for kind in ("ok", "gone", "later", "policy", "refused-content")
    ]
    with SmtpSink(handler=handler, pipelining=True) as sink:
        pool = pool_for(sink.port, connections=2)
        sends = [pool.send("news@example.com", name, message_to(name), Handover(lambda: True)) for name in names]
        outcomes = dict(zip(names, await asyncio.gather(*sends, return_exceptions=True), strict=True))
        await pool.close()
    assert sorted(handler.recipients()) == sorted(n for n in names if n.startswith("ok-"))
    for name, outcome in outcomes.items():
        kind = name.partition("-")[0]
        if kind == "ok":
            assert outcome is None
        elif kind == "later":
            assert isinstance(outcome, TransientFailure)
        else:
            assert isinstance(outcome, PermanentFailure) and outcome.mailbox_refused == (kind == "gone"), name


async def test_a_joined_message_taken_back_before_its_content_went_is_not_sent_and_the_pool_goes_on():
    with SmtpSink(pipelining=True) as sink:
        pool = pool_for(sink.port)
        sink.hold()  # the first message's content waits at the server, unanswered
        first = asyncio.ensure_future(pool.send("news@example.com", "ada@x.org", MESSAGE, Handover(lambda: True)))
        second_hand = Handover(lambda: True)
        second = asyncio.ensure_future(pool.send("news@example.com", "bob@x.org", MESSAGE, second_hand))

        async def first_held() -> bool:
            return sink.held == 1

        await wait_for(first_held, "held the first message")
        assert not second_hand.handed, "its envelope went, but it may still be taken back"
        second.cancel()  # as a pause does with every message not handed over yet
        sink.release()
        await first
        with pytest.raises(asyncio.CancelledError):
            await second
        await pool.send("news@example.com", "cy@x.org", MESSAGE, Handover(lambda: True))
        await pool.close()
    assert list(sink.handler.attempts) == ["ada@x.org", "bob@x.org", "cy@x.org"]  # bob's RCPT went
    assert len(sink.messages) == 2, "ada's and cy's messages, not bob's"


async def test_a_message_whose_handover_is_recorded_joins_with_mail_and_rcpt_and_sends_data_after_its_record():
    log = ServerLog()
    seen_at_record: dict[str, list[bytes]] = {}

    def recorded(name: str) -> Handover:
        async def hand_over() -> bool:
            seen_at_record[name] = list(log.reads)
            return True

        return Handover(lambda: True, before_data=hand_over)

    async with pipelining_server(log) as port:
        pool = pool_for(port)
        sends = [pool.send("news@example.com", to, MESSAGE, recorded(to)) for to in ("ada@x.org", "bob@x.org")]
        assert await asyncio.gather(*sends) == [None, None]
    joined_envelope = b".\r\nMAIL FROM:<news@example.com>\r\nRCPT TO:<bob@x.org>\r\n"
    assert any(read.endswith(joined_envelope) for read in seen_at_record["bob@x.org"]), "no DATA before the record"
    assert log.messages == [MESSAGE, MESSAGE]


async def test_a_waiting_message_that_may_no_longer_go_is_not_joined_and_is_stopped():
    log = ServerLog()
    async with pipelining_server(log) as port:
        pool = pool_for(port)
        going = pool.send("news@example.com", "ada@x.org", MESSAGE, Handover(lambda: True))
        stopped = pool.send("news@example.com", "bob@x.org", MESSAGE, Handover(lambda: False))
        outcomes = await asyncio.gather(going, stopped, return_exceptions=True)
    assert outcomes[0] is None and isinstance(outcomes[1], Stopped)
    assert not any(b"bob@x.org" in read for read in log.reads)
    assert log.messages == [MESSAGE]
