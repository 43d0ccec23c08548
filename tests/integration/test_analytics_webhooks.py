"""email.opened and email.clicked: queued by the event worker's batch in its own transaction, for
endpoints that chose them: a message's first open (and its first human open after a machine's),
every click, each saying whether a machine made it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.test_analytics_rollups import BARRACUDA, CHROME, MPP, THUNDERBIRD, hit, sent_campaign
from tests.integration.test_webhooks_events import queued
from webapp.tracking.service import hits
from webapp.webhooks.service import endpoints


async def subscribe(db, event_types: list[str]) -> None:
    await endpoints.create_endpoint(
        db, {"url": "http://127.0.0.1:9/hook", "event_types": event_types, "allow_private": True}
    )
    await db.commit()


async def test_first_opens_and_every_click_are_queued_for_endpoints_that_chose_them(db):
    campaign_id, (first, second), (link_a, _) = await sent_campaign(db)
    await subscribe(db, ["email.opened", "email.clicked"])
    now = datetime.now(UTC)
    batch = [
        hit("open", first, MPP, at=now),
        hit("open", first, THUNDERBIRD, at=now + timedelta(minutes=1)),
        hit("open", first, THUNDERBIRD, at=now + timedelta(minutes=2)),
        hit("click", second, CHROME, link_a, at=now + timedelta(minutes=3)),
        hit("click", second, BARRACUDA, link_a, at=now + timedelta(minutes=4)),
    ]
    await hits.apply(db, batch)
    await hits.apply(db, batch)  # applied again: nothing new
    await db.commit()

    events = await queued(db)
    opened = [data for kind, data in events if kind == "email.opened"]
    clicked = [data for kind, data in events if kind == "email.clicked"]
    # The proxy's open, then the reader's first; the click opened the second message.
    assert [(e["delivery_id"], e["machine"], e["client"]) for e in opened] == [
        (first, True, "Apple Mail"),
        (first, False, "Thunderbird"),
        (second, False, "Webmail"),
    ]
    assert [(e["delivery_id"], e["machine"], e["url"]) for e in clicked] == [
        (second, False, "https://example.com/a"),
        (second, True, "https://example.com/a"),
    ]
    assert all(e["campaign_id"] == campaign_id and e["email"].endswith("@example.com") for e in opened + clicked)
    assert "url" not in opened[0]


async def test_nothing_is_queued_for_endpoints_that_did_not_choose_them(db):
    _, (first, _), (link_a, _) = await sent_campaign(db)
    await subscribe(db, ["email.clicked"])
    await hits.apply(db, [hit("open", first, THUNDERBIRD), hit("click", first, CHROME, link_a)])
    await db.commit()
    assert [kind for kind, _ in await queued(db)] == ["email.clicked"]
