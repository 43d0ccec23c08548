"""Open pixel, click redirect and unsubscribe over HTTP, with real delivery rows."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign
from tests.support.events import apply_events
from webapp.campaigns.models import Campaign
from webapp.core.tokens import make_token


async def sent_delivery(db):
    """A campaign with one delivery marked sent, and a stored link; no SMTP needed."""
    email_list = await audience(db, 1)
    campaign = await ready_campaign(db, [email_list.id])
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                             SELECT :c, id, email, 'sent', now() FROM contacts"""),
        {"c": campaign.id},
    )
    await db.execute(
        text("UPDATE campaigns SET status = 'sent', sent_count = 1, total_recipients = 1 WHERE id = :c"),
        {"c": campaign.id},
    )
    link_id = await db.scalar(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/offer') RETURNING id"),
        {"c": campaign.id},
    )
    delivery_id = await db.scalar(text("SELECT id FROM deliveries"))
    await db.commit()
    return campaign.id, delivery_id, link_id


async def test_open_pixel_counts_once_and_always_answers_a_gif(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    url = f"{live_server}/u/o/{make_token('open', delivery_id)}.gif"
    for _ in range(2):
        response = httpx.get(url)
        assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
        assert "no-store" in response.headers["cache-control"]
    forged = httpx.get(f"{live_server}/u/o/{make_token('click', delivery_id)}.gif")  # wrong purpose
    assert forged.status_code == 200 and forged.headers["content-type"] == "image/gif"
    assert await apply_events() == 2
    db.expire_all()
    campaign = await db.get(Campaign, campaign_id)
    assert campaign.opened_count == 1
    assert await db.scalar(text("SELECT emails_opened FROM contacts")) == 1
    assert await db.scalar(text("SELECT count(*) FROM email_events WHERE kind = 'open'")) == 2


async def test_click_redirects_only_to_the_stored_link(db, live_server):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    response = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")
    assert response.status_code == 302 and response.headers["location"] == "https://example.com/offer"
    assert await apply_events() == 1
    db.expire_all()
    campaign = await db.get(Campaign, campaign_id)
    assert campaign.clicked_count == 1 and campaign.opened_count == 1  # a click implies an open

    token = make_token("click", delivery_id, link_id)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert httpx.get(f"{live_server}/u/c/{tampered}").status_code == 404
    assert httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id + 99)}").status_code == 404
    assert httpx.get(f"{live_server}/u/c/not-a-token").status_code == 404


async def test_unsubscribe_get_only_asks_and_post_unsubscribes(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    url = f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"
    page = httpx.get(url)
    assert page.status_code == 200 and "Unsubscribe?" in page.text and "person0@example.com" in page.text
    status = await db.scalar(text("SELECT status FROM contacts"))
    assert status == "active"  # a prefetching scanner unsubscribes nobody

    done = httpx.post(url)
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    db.expire_all()
    assert await db.scalar(text("SELECT status FROM contacts")) == "unsubscribed"
    assert (await db.get(Campaign, campaign_id)).unsubscribed_count == 1
    again = httpx.get(url)  # the link followed again: nothing left to ask
    assert "You are unsubscribed" in again.text and "Unsubscribe?" not in again.text


async def test_one_click_unsubscribe_needs_no_cookie_or_csrf_and_never_redirects(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    url = f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"
    response = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "location" not in response.headers
    again = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    db.expire_all()
    assert await db.scalar(text("SELECT status FROM contacts")) == "unsubscribed"
    assert (await db.get(Campaign, campaign_id)).unsubscribed_count == 1


async def test_forged_unsubscribe_token_is_refused(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    forged = make_token("open", delivery_id)  # valid signature, wrong purpose
    assert (
        httpx.post(f"{live_server}/u/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    )
    assert httpx.get(f"{live_server}/u/unsubscribe/xyz").status_code == 404
    from_the_page = httpx.post(f"{live_server}/u/unsubscribe/{forged}", data={"lang": "es"})  # the page's button
    assert from_the_page.status_code == 404 and "Ábrelo de nuevo desde el último correo" in from_the_page.text
    assert await db.scalar(text("SELECT status FROM contacts")) == "active"


async def test_preferences_page_leaves_unticked_lists_or_everything(db, live_server):
    from webapp.lists.models import EmailList

    _, delivery_id, _ = await sent_delivery(db)
    other = EmailList(name="Product news")
    db.add(other)
    await db.flush()
    await db.execute(
        text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts"), {"l": other.id}
    )
    await db.commit()
    url = f"{live_server}/u/preferences/{make_token('unsubscribe', delivery_id)}"
    page = httpx.get(url)
    assert page.status_code == 200 and "Audience" in page.text and "Product news" in page.text

    keep_audience = await db.scalar(text("SELECT id FROM email_lists WHERE name = 'Audience'"))
    saved = httpx.post(url, data={"keep": str(keep_audience), "action": "save"})
    assert saved.status_code == 200 and "Your preferences are saved." in saved.text
    assert await db.scalar(text("SELECT count(*) FROM list_members")) == 1
    assert await db.scalar(text("SELECT status FROM contacts")) == "active"

    httpx.post(url, data={"action": "unsubscribe-all"})
    assert await db.scalar(text("SELECT status FROM contacts")) == "unsubscribed"
    assert httpx.get(f"{live_server}/u/preferences/forged").status_code == 404


async def test_contact_page_shows_email_history_and_stats(db, live_server, staff):
    campaign_id, delivery_id, link_id = await sent_delivery(db)
    httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_id)}")
    await apply_events()
    contact_id = await db.scalar(text("SELECT id FROM contacts"))
    client = await staff("viewer")
    page = client.get(f"/contacts/{contact_id}")
    assert page.status_code == 200
    assert f'href="/campaigns/{campaign_id}"' in page.text and "Test campaign" in page.text
    assert "1 opened" in page.text and "1 clicked" in page.text
