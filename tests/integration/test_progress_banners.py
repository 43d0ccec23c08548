"""Banners about work in progress go with the work: a page shown once the work is done does not
say it is still going on (the live parts of the page say how it is going while it is)."""

from __future__ import annotations

from tests.support.campaigns import audience, ready_campaign, smtp_server, wait_for_status
from tests.support.smtp import SmtpSink


async def test_a_campaign_sent_by_now_shows_no_sending_banner(db, staff, worker):
    editor = await staff("editor")
    with SmtpSink() as sink:
        email_list = await audience(db, 3)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        await db.commit()
        assert editor.post(f"/campaigns/{campaign.id}/send").status_code == 303
        worker()
        await wait_for_status(db, campaign.id, {"sent"})
    page = editor.get(f"/campaigns/{campaign.id}").text  # the first page after "Send now"
    assert "go out within seconds" not in page
    assert '<span class="badge status-sent">sent</span>' in page
