"""Connections to SMTP servers over time: a pooled connection the server closed while it sat idle is
not used again (no failed attempt, no server marked down), and a campaign that paused itself because
no server could be reached resumes by itself once one answers again, a few times at most."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.test_send_stops import wait_for
from tests.support.campaigns import audience, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink, free_port
from webapp.campaigns.service import campaigns, sending
from webapp.delivery import actors


async def _send(db, list_id: int, name: str) -> int:
    campaign = await ready_campaign(db, [list_id], name=name)
    await campaigns.send_now(db, campaign.id)
    await db.commit()
    return campaign.id


async def test_pooled_connections_the_server_closed_while_idle_are_not_used(db, worker):
    with SmtpSink(idle_timeout=1) as sink:
        list_id = (await audience(db, 10)).id
        await smtp_server(db, sink.port)
        first = await _send(db, list_id, "First")
        worker()
        await wait_for_status(db, first, {"sent"})

        async def closed_by_the_server() -> bool:
            return sink.sessions == 0

        await wait_for(closed_by_the_server, "closed the idle sessions")
        second = await _send(db, list_id, "Second")
        await wait_for_status(db, second, {"sent"})
    assert len(sink.messages) == 20
    tries = await db.scalars(text("SELECT attempts FROM deliveries WHERE campaign_id = :c"), {"c": second})
    assert set(tries) == {1}, "no message failed on a dead connection"
    assert await db.scalar(text("SELECT last_error FROM smtp_servers")) == ""


async def test_a_campaign_paused_because_no_server_answered_resumes_when_one_does(db, worker):
    port = free_port()  # nothing listens here yet
    email_list = await audience(db, 50)
    await smtp_server(db, port)
    campaign_id = await _send(db, email_list.id, "Server down")
    worker(MAILROOM_PAUSE_AFTER_FAILURES="10")
    paused = await wait_for_status(db, campaign_id, {"paused"})
    assert paused.status_reason.startswith(sending.WAITING_FOR_SERVERS)
    with SmtpSink(port=port) as sink:
        done = await wait_for_status(db, campaign_id, {"sent"}, timeout=90)
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in range(50))
    assert (done.sent_count, done.failed_count, done.auto_resumes) == (50, 0, 1)


async def test_automatic_resumes_are_limited_and_wait_for_an_answering_server(db):
    port = free_port()
    email_list = await audience(db, 5)
    await smtp_server(db, port)
    campaign_id = await _send(db, email_list.id, "Flaky")
    await db.execute(
        text("UPDATE campaigns SET status = 'paused', status_reason = :r, auto_resumes = :n WHERE id = :c"),
        {"r": sending.WAITING_FOR_SERVERS + " (tests)", "n": sending.MAX_AUTO_RESUMES - 1, "c": campaign_id},
    )
    await db.commit()

    async def status() -> str:
        db.expire_all()
        return (await campaigns.get_campaign(db, campaign_id)).status

    await actors.resume_when_servers_answer()  # no server answers: it stays paused
    assert await status() == "paused"
    with SmtpSink(port=port):
        await actors.resume_when_servers_answer()
        assert await status() == "sending"
        await campaigns.pause(db, campaign_id, sending.WAITING_FOR_SERVERS + " (again)")
        await db.commit()
        await actors.resume_when_servers_answer()  # that was the last automatic resume
        assert await status() == "paused"
