"""The campaign page refreshes its engagement counters (every 5 s, and on live progress) only while
the campaign can still change: scheduled, sending or paused (a paused campaign may resume by
itself). A finished one, and the fragment that brings the finished state, carry no trigger, so a
page left open on a sent campaign stops asking."""

from __future__ import annotations

import re

import pytest

from webapp.campaigns.models import Campaign

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


@pytest.mark.parametrize("status", ["draft", "sent", "cancelled", "failed"])
async def test_counters_of_a_campaign_that_cannot_change_do_not_poll(staff, db, status):
    viewer = await staff("viewer")
    c = await campaign_in(db, status)
    for html in (viewer.get(f"/campaigns/{c.id}").text, viewer.get(f"/campaigns/{c.id}/counters").text):
        tag = counters_tag(html)
        assert "hx-trigger" not in tag and "hx-get" not in tag, tag
