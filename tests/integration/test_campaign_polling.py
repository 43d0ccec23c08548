"""The campaign page refreshes its engagement counters every 5 s, and on live progress, while the
campaign is scheduled, sending or paused (a paused campaign may resume by itself); a draft's when
its send starts; a finished one's every 30 s, as opens and clicks go on coming in."""

from __future__ import annotations

import re

import pytest

from webapp.campaigns.models import Campaign

FINISHED = ("sent", "cancelled", "failed")
COUNTERS = re.compile(r'<section id="campaign-\d+-counters"[^>]*>')


def counters_tag(html: str) -> str:
    found = COUNTERS.search(html)
    assert found, "no counters card"
    return found.group(0)


async def campaign_in(db, status: str) -> Campaign:
    c = Campaign(name=f"A {status} one", subject="Hi", status=status, total_recipients=10, sent_count=10)
    db.add(c)
    await db.commit()
    return c


@pytest.mark.parametrize("status", ["scheduled", "sending", "paused"])
async def test_counters_poll_while_the_campaign_can_change(staff, db, status):
    viewer = await staff("viewer")
    c = await campaign_in(db, status)
    for html in (viewer.get(f"/campaigns/{c.id}").text, viewer.get(f"/campaigns/{c.id}/counters").text):
        tag = counters_tag(html)
        assert f'hx-get="/campaigns/{c.id}/counters"' in tag
        assert "every 5s" in tag


@pytest.mark.parametrize(("status", "trigger"), [("draft", "sse:status"), *((s, "every 30s") for s in FINISHED)])
async def test_counters_of_a_draft_or_a_finished_campaign_refresh_when_they_may_have_moved(staff, db, status, trigger):
    viewer = await staff("viewer")
    c = await campaign_in(db, status)
    for html in (viewer.get(f"/campaigns/{c.id}").text, viewer.get(f"/campaigns/{c.id}/counters").text):
        tag = counters_tag(html)
        assert f'hx-get="/campaigns/{c.id}/counters"' in tag and f'hx-trigger="{trigger}"' in tag, tag


async def test_a_campaign_cancelled_before_its_recipients_were_listed_says_so(staff, db):
    viewer = await staff("viewer")
    c = Campaign(name="Called off", subject="Hi", status="cancelled")
    db.add(c)
    await db.commit()
    page = viewer.get(f"/campaigns/{c.id}").text
    assert "Cancelled before any message was sent." in page and "0 messages were not sent" not in page
