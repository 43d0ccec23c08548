"""The public archive (/archive): sent campaigns staff published, newest first and as RSS, each
shown with no recipient's data in it and nothing tracked; staff put a campaign in and take it out
on its page or through the API, at any status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import httpx
from sqlalchemy import func, select, text

from tests.support.campaigns import audience, ready_campaign
from tests.support.subscriptions import public_list
from webapp.abtests.models import AbTest, AbVariant
from webapp.campaigns.models import Campaign, Link

SENT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


async def sent(db, campaign: Campaign, days_later: int = 0) -> int:
    """Mark the campaign sent, `days_later` days after SENT (the archive needs nothing else of a send)."""
    await db.execute(
        text("UPDATE campaigns SET status = 'sent', started_at = :t, completed_at = :t WHERE id = :id"),
        {"t": SENT + timedelta(days=days_later), "id": campaign.id},
    )
    await db.commit()
    return campaign.id


async def published(db, list_id: int, subject: str, days_later: int = 0, **overrides) -> int:
    campaign = await ready_campaign(db, [list_id], subject=subject, settings={"archive": True}, **overrides)
    return await sent(db, campaign, days_later)


async def test_the_archive_lists_published_sent_campaigns_newest_first_without_personal_data(db, live_server):
    email_list = await audience(db, 2)
    older = await published(db, email_list.id, "October for {{ first_name | default('friends') }}")
    newer = await published(db, email_list.id, "November <news> & more", days_later=7)
    unpublished = await sent(db, await ready_campaign(db, [email_list.id], subject="Staff only"))
    draft = (await ready_campaign(db, [email_list.id], subject="Not yet", settings={"archive": True})).id

    page = httpx.get(f"{live_server}/archive")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.index("November &lt;news&gt; &amp; more") < html.index("October for friends")  # newest first, escaped
    assert "Staff only" not in html and "Not yet" not in html
    assert f'href="/archive/{newer}"' in html and "November 9, 2026" in html and "November 2, 2026" in html
    assert page.headers["x-robots-tag"] == "all" and 'content="noindex"' not in html  # for anyone to find
    spanish = httpx.get(f"{live_server}/archive?lang=es").text
    for public in ("/archive", "/archive/feed.xml"):  # read-only pages for anyone: no cookie
        assert "set-cookie" not in httpx.get(live_server + public).headers
    assert "Boletines pasados" in spanish and "9 de noviembre de 2026" in spanish

    shown = httpx.get(f"{live_server}/archive/{older}")
    assert shown.status_code == 200, shown.text
    assert "Hello there" in shown.text and "Person0" not in shown.text  # personalised as for nobody
    assert 'href="https://example.com/offer"' in shown.text  # links go straight to their page
    for tracked in ("/u/c/", "/u/o/", "/u/unsubscribe/", "/u/preferences/"):
        assert tracked not in shown.text
    assert "Mailroom Tests Ltd" in shown.text  # the sender's footer stays
    assert "sandbox" in shown.headers["content-security-policy"]
    assert await db.scalar(select(func.count()).select_from(Link)) == 0  # no tracking link was made

    for hidden in (unpublished, draft, 999_999):
        refused = httpx.get(f"{live_server}/archive/{hidden}")
        assert refused.status_code == 404 and "not in the archive" in refused.text, hidden


async def test_an_ab_tested_campaign_shows_the_variant_its_audience_got(db, live_server):
    email_list = await audience(db, 1)
    campaign_id = await published(db, email_list.id, "Control subject")
    test = AbTest(campaign_id=campaign_id, status="sent")
    db.add(test)
    await db.flush()
    control = AbVariant(ab_test_id=test.id, position=0, label="A", is_control=True)
    winner = AbVariant(
        ab_test_id=test.id, position=1, label="B", subject="Winning subject", html_content="<p>The winner</p>"
    )
    db.add_all([control, winner])
    await db.flush()
    test.chosen_variant_id = winner.id
    await db.commit()

    assert "Winning subject" in httpx.get(f"{live_server}/archive").text
    shown = httpx.get(f"{live_server}/archive/{campaign_id}").text
    assert "The winner" in shown and "See the offer" not in shown


async def test_the_archive_pages_by_keyset_and_has_an_rss_feed(db, live_server):
    email_list = await audience(db, 1)
    for day in range(23):
        await published(db, email_list.id, f"Issue {day}", days_later=day)

    first = httpx.get(f"{live_server}/archive").text
    assert "Issue 22" in first and "Issue 3<" in first and "Issue 2<" not in first  # 20 a page
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = httpx.get(live_server + older).text
    assert [f"Issue {n}<" in second for n in (2, 1, 0, 3)] == [True, True, True, False]

    feed = httpx.get(f"{live_server}/archive/feed.xml")
    assert feed.headers["content-type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(feed.content).find("channel")
    assert channel is not None and channel.findtext("title") == "Mailroom Tests Ltd"
    items = channel.findall("item")
    assert len(items) == 20 and items[0].findtext("title") == "Issue 22"
    assert items[0].findtext("link", "").endswith("/archive/" + items[0].findtext("link", "").rsplit("/", 1)[1])
    assert items[0].findtext("pubDate") == "Tue, 24 Nov 2026 09:30:00 +0000"


async def test_staff_publish_a_sent_campaign_and_take_it_out_again(db, staff, live_server):
    email_list = await audience(db, 1)
    campaign_id = await sent(db, await ready_campaign(db, [email_list.id], subject="Spring news"))
    editor, viewer = await staff("editor"), await staff("viewer")
    assert f"/campaigns/{campaign_id}/archive" not in viewer.get(f"/campaigns/{campaign_id}").text
    assert viewer.post(f"/campaigns/{campaign_id}/archive", data={"archive": "on"}).status_code == 403

    done = editor.post(f"/campaigns/{campaign_id}/archive", data={"archive": "on"})
    assert (done.status_code, done.headers["location"]) == (303, f"/campaigns/{campaign_id}")
    page = editor.get(f"/campaigns/{campaign_id}").text
    assert "is in the public archive" in page and f'<a href="/archive/{campaign_id}" hx-boost="false">In it</a>' in page
    assert httpx.get(f"{live_server}/archive/{campaign_id}").status_code == 200

    editor.post(f"/campaigns/{campaign_id}/archive", data={})
    assert "is no longer in the public archive" in editor.get(f"/campaigns/{campaign_id}").text
    assert httpx.get(f"{live_server}/archive/{campaign_id}").status_code == 404
    assert "Spring news" not in httpx.get(f"{live_server}/archive").text


async def test_the_api_puts_a_campaign_in_the_archive_and_names_a_bad_field(db, api, live_server):
    email_list = await audience(db, 1)
    campaign = await ready_campaign(db, [email_list.id], subject="By the API")
    client, viewer = await api("editor"), await api("viewer")

    draft = client.put(f"/api/campaigns/{campaign.id}/archive", json={"archive": True})
    assert draft.status_code == 200, draft.text
    assert draft.json()["settings"]["archive"] is True
    await sent(db, campaign)
    assert "By the API" in httpx.get(f"{live_server}/archive").text

    wrong = client.put(f"/api/campaigns/{campaign.id}/archive", json={"archive": "yes"})
    assert wrong.status_code == 400 and "archive" in wrong.text
    unknown = client.put(f"/api/campaigns/{campaign.id}/archive", json={"archive": False, "public": True})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "public"
    assert viewer.put(f"/api/campaigns/{campaign.id}/archive", json={"archive": False}).status_code == 403
    assert client.put("/api/campaigns/999999/archive", json={"archive": True}).status_code == 404

    await db.execute(text("UPDATE campaigns SET kind = 'automation' WHERE id = :id"), {"id": campaign.id})
    await db.commit()
    automation = client.put(f"/api/campaigns/{campaign.id}/archive", json={"archive": True})
    assert automation.status_code == 409 and "Only campaigns sent to lists" in automation.json()["detail"]


async def test_the_sign_up_page_links_to_the_archive_once_it_shows_something(db, live_server):
    signup_id = (await public_list(db)).id
    await db.commit()
    url = f"{live_server}/subscribe/{signup_id}"
    assert "/archive" not in httpx.get(url).text
    email_list = await audience(db, 1)
    await published(db, email_list.id, "Our first letter")
    page = httpx.get(url, params={"lang": "es"}).text
    assert '<a href="/archive">Lee los boletines anteriores</a>' in page
