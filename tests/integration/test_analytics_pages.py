"""The analytics pages against the real server: a campaign's report (headline figures with human
opens first and machine opens beside them, opens and clicks over time, clicks per link beside the
email, clients and domains), its empty state, the comparison of up to four campaigns, and the
dashboard's audience growth, recent campaigns and overall rates. Viewers may read them all."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from tests.support.analytics import audience_movement, sent_campaign_activity
from tests.support.campaigns import audience, ready_campaign
from tests.support.events import apply_events
from webapp.analytics import service as analytics
from webapp.contacts import service as contacts
from webapp.core.redis import get_redis
from webapp.core.tokens import make_token
from webapp.delivery.queries import register_links

OFFER, NEWS = "https://example.com/offer", "https://example.com/news"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
TWO_LINKS = f'<html><body><p>Hi</p><a href="{OFFER}">Offer</a> <a href="{NEWS}">News</a></body></html>'


def page_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"\s+", " ", page))).replace("  ", " ")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def sent(db, name: str = "Spring sale", **activity) -> int:
    email_list = await audience(db, 3, name=f"{name} list")
    c = await ready_campaign(db, [email_list.id], name=name, html_content=TWO_LINKS)
    await sent_campaign_activity(db, c.id, [OFFER, NEWS], **activity)
    await db.commit()
    return c.id


async def test_a_viewer_reads_the_headline_figures_with_human_opens_first_and_machine_opens_beside(staff, db):
    campaign_id = await sent(db)
    viewer = await staff("viewer")
    response = viewer.get(f"/campaigns/{campaign_id}/report")
    assert response.status_code == 200
    text = squeeze(page_text(response.text))
    assert "Sent 100" in text
    assert "Delivered 97 97.0% of sent" in text  # no provider reported deliveries: sent less bounces
    # 30 + 5 + 3 human unique opens over 97 delivered; 55 + 6 + 4 opens in all
    assert "Unique opens 38 39.2% open rate 65 opens in all, 12 by machines" in text
    assert "Unique clicks 7 7.2% click rate, 18.4% of openers (CTOR) 12 clicks in all, 2 by link scanners" in text
    assert "Bounces 3 3.0% of sent 2 hard, 1 soft" in text
    assert "Complaints 1 1.0% of sent" in text
    assert "Unsubscribes 3 3.0% of sent" in text


async def test_the_report_draws_opens_and_clicks_by_hour_then_by_day_each_with_its_table(staff, db):
    campaign_id = await sent(db)
    viewer = await staff("viewer")
    page = viewer.get(f"/campaigns/{campaign_id}/report").text
    charts = re.findall(
        r'<svg class="chart-svg"[^>]*role="img" aria-labelledby="([\w-]+)-title" aria-describedby="\1-desc"', page
    )
    assert charts == ["report-hourly", "report-daily", "report-links", "report-clients", "report-domains"]
    # people's figures, as the headline's: machine opens and scanner clicks left out
    clients = page.split('id="report-clients"')[1].split("</figure>")[0]
    assert re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', clients) == [
        ("Gmail on desktop", "7"),
        ("Apple Mail on phone", "6"),
    ]
    domains = page.split('id="report-domains"')[1].split("</figure>")[0]
    assert re.findall(r'<tr><th scope="row">([^<]+)</th>(?:<td class="num">(\d+)</td>){3}', squeeze(domains)) == [
        ("example.com", "3"),
        ("example.org", "2"),
    ]
    hourly = page.split('id="report-hourly"')[1].split("</figure>")[0]
    # every hour from the start of sending (at :20) to 48 hours after it, quiet ones too
    assert hourly.count('<tr><th scope="row">') == 49
    assert re.search(r"<desc[^>]*>Opens and clicks by hour, .*Unique opens: 35 in all, most 30 at ", hourly)
    daily = page.split('id="report-daily"')[1].split("</figure>")[0]
    assert daily.count('<tr><th scope="row">') == 1
    assert "Show as table" in daily


async def test_clicks_per_link_sit_beside_the_email_shown_in_a_sandbox(staff, db):
    campaign_id = await sent(db)
    viewer = await staff("viewer")
    page = viewer.get(f"/campaigns/{campaign_id}/report").text
    links = page.split('id="report-links"')[1].split("</figure>")[0]
    email = html.unescape(re.search(r'<iframe sandbox="" srcdoc="([^"]*)"', page).group(1))
    assert re.search(rf'<a href="{OFFER}">Offer</a><span [^>]*>6 clicks · 66.7%</span>', email)
    assert re.search(rf'<a href="{NEWS}">News</a><span [^>]*>3 clicks · 33.3%</span>', email)
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td><td class="num">([\d.]+%)</td>', links
    )
    assert rows == [(OFFER, "6", "66.7%"), (NEWS, "3", "33.3%")]


async def test_a_campaign_not_sent_yet_has_an_empty_report_and_no_charts(staff, db):
    email_list = await audience(db, 3)
    draft = await ready_campaign(db, [email_list.id])
    await db.commit()
    viewer = await staff("viewer")
    response = viewer.get(f"/campaigns/{draft.id}/report")
    assert response.status_code == 200
    assert "No report yet" in response.text and "<svg" not in response.text
    assert "/report" not in viewer.get(f"/campaigns/{draft.id}").text


async def test_a_campaign_just_started_shows_zeros_and_says_what_has_not_happened_yet(staff, db):
    email_list = await audience(db, 3, name="Quiet")
    c = await ready_campaign(db, [email_list.id], html_content=TWO_LINKS)
    await db.execute(text("UPDATE campaigns SET status = 'sending', started_at = now() WHERE id = :c"), {"c": c.id})
    await register_links(db, c.id, [OFFER, NEWS])  # as the first send batch does
    await db.commit()
    viewer = await staff("viewer")
    response = viewer.get(f"/campaigns/{c.id}/report")
    assert response.status_code == 200
    shown = squeeze(page_text(response.text))
    assert "Sent 0" in shown and "Unique opens 0 0.0% open rate" in shown
    assert "No opens or clicks yet." in shown and "No clicks yet." in shown
    assert "No opens yet to tell mail clients apart." in shown and "Nothing sent yet." in shown
    assert '<svg class="chart-svg"' not in response.text


async def test_the_campaign_page_links_to_its_report_once_sending_started(staff, db):
    campaign_id = await sent(db)
    viewer = await staff("viewer")
    assert f'href="/campaigns/{campaign_id}/report"' in viewer.get(f"/campaigns/{campaign_id}").text


async def test_a_report_of_no_campaign_is_not_found(staff, db):
    viewer = await staff("viewer")
    assert viewer.get("/campaigns/999999/report").status_code == 404


async def test_campaigns_compare_side_by_side(staff, db):
    spring = await sent(db, "Spring sale")
    summer = await sent(db, "Summer news", days_ago=2)
    viewer = await staff("viewer")
    response = viewer.get(f"/campaigns/compare?campaigns={spring}&campaigns={summer}")
    assert response.status_code == 200
    table = response.text.split('class="compare-table"')[1].split("</table>")[0]
    assert re.findall(r'<a href="/campaigns/(\d+)/report">([^<]+)</a>', table) == [
        (str(spring), "Spring sale"),
        (str(summer), "Summer news"),
    ]
    assert '<th scope="row">Open rate</th><td class="num">39.2%</td>' in squeeze(table)
    assert 'id="compare-rates"' in response.text
    # each campaign's opens counted from its own start, so both peak in their first hour
    assert re.search(
        r"<desc[^>]*>Unique opens by hour after sending started, \+0h to \+48h\. "
        r"Spring sale: 35 in all, most 30 at \+0h\. Summer news: 35 in all, most 30 at \+0h\.</desc>",
        response.text,
    )
    assert len(re.findall(r'name="campaigns" value="\d+" checked', response.text)) == 2


async def test_more_than_four_campaigns_are_refused_next_to_the_picker(staff, db):
    ids = [await sent(db, f"Campaign {i}") for i in range(5)]
    viewer = await staff("viewer")
    response = viewer.get("/campaigns/compare?" + "&".join(f"campaigns={i}" for i in ids))
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="campaigns-error">Compare at most 4 campaigns.</p>', response.text)
    assert 'aria-invalid="true"' in response.text and "compare-table" not in response.text
    assert len(re.findall(r'name="campaigns" value="\d+" checked', response.text)) == 5  # as picked, to untick one


async def test_a_campaign_that_does_not_exist_or_was_never_sent_is_named_next_to_the_picker(staff, db):
    spring = await sent(db, "Spring sale")
    draft = (await ready_campaign(db, [], name="Autumn draft")).id
    await db.commit()
    viewer = await staff("viewer")
    for picked, said in (
        ([spring, 999999], "No campaign has the id 999999."),
        ([spring, draft], "Not sent yet, so nothing to compare: Autumn draft."),
    ):
        response = viewer.get("/campaigns/compare?" + "&".join(f"campaigns={i}" for i in picked))
        assert response.status_code == 422 and "compare-table" not in response.text
        assert f'<p class="field-error" id="campaigns-error">{said}</p>' in response.text


async def test_the_dashboard_shows_audience_growth_recent_campaigns_and_overall_rates(staff, db):
    campaign_id = await sent(db)
    await audience_movement(db)
    await db.commit()
    viewer = await staff("viewer")
    page = viewer.get("/").text
    growth = page.split('id="audience-growth"')[1].split("</figure>")[0]
    assert 'role="img"' in growth
    assert growth.count('<tr><th scope="row">') == 30
    # 46 on earlier days, and today the campaign's 3 recipients, counted from the contacts
    assert re.search(r"<desc[^>]*>.*Subscribed: 49 in all, most 30 at ", growth)
    assert f'<a href="/campaigns/{campaign_id}/report">Spring sale</a>' in page
    text = squeeze(page_text(viewer.get("/").text))
    assert "Open rate 39.2% unique, people only" in text
    assert "All email Campaigns and automations' emails together" in text  # not "All campaigns": it holds both


async def test_an_empty_dashboard_says_nothing_was_sent_yet(staff, db):
    viewer = await staff("viewer")
    text = squeeze(page_text(viewer.get("/").text))
    assert "No email has been sent yet." in text
    assert "Nobody subscribed, unsubscribed or bounced in the last 30 days." in text


async def test_a_contact_added_today_shows_on_the_dashboard_before_the_scheduled_recount(staff, db):
    viewer = await staff("viewer")
    assert "Nobody subscribed" in viewer.get("/").text
    await contacts.create_contact(db, {"email": "new@example.com"})
    await db.commit()
    assert "Nobody subscribed" in viewer.get("/").text  # counted again at most every 30 s

    await get_redis().delete(analytics.TODAY_COUNTED_KEY)  # 30 s later
    growth = viewer.get("/").text.split('id="audience-growth"')[1].split("</figure>")[0]
    assert re.search(r"<desc[^>]*>.*Subscribed: 1 in all", growth)


async def test_an_open_and_a_click_from_a_mail_client_reach_the_report(staff, db, live_server):
    email_list = await audience(db, 2, name="Readers")
    c = await ready_campaign(db, [email_list.id], html_content=TWO_LINKS)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', :at FROM contacts"""),
        {"c": c.id, "at": an_hour_ago},
    )
    await db.execute(
        text("UPDATE campaigns SET status = 'sent', started_at = :at WHERE id = :c"), {"c": c.id, "at": an_hour_ago}
    )
    link_ids = await register_links(db, c.id, [OFFER, NEWS])
    delivery_id, images_off = await db.scalars(text("SELECT id FROM deliveries ORDER BY id"))
    await db.commit()
    reader = {"User-Agent": THUNDERBIRD}
    assert httpx.get(f"{live_server}/u/o/{make_token('open', delivery_id)}.gif", headers=reader).status_code == 200
    click = httpx.get(f"{live_server}/u/c/{make_token('click', delivery_id, link_ids[NEWS])}", headers=reader)
    assert click.status_code in (302, 303, 307)
    browser = {"User-Agent": CHROME}  # the other reader's mail app loads no images: a click is all we see
    assert httpx.get(
        f"{live_server}/u/c/{make_token('click', images_off, link_ids[OFFER])}", headers=browser
    ).is_redirect
    await apply_events()

    viewer = await staff("viewer")
    page = viewer.get(f"/campaigns/{c.id}/report").text
    assert "Unique opens 2" in squeeze(page_text(page))
    unknown = "1 more person opened it by clicking a link with images off: their mail client is not known."
    assert unknown in page_text(page)
    links = page.split('id="report-links"')[1].split("</figure>")[0]
    assert re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', links) == [
        (OFFER, "1"),
        (NEWS, "1"),
    ]
    clients = page.split('id="report-clients"')[1].split("</figure>")[0]
    assert re.search(r'<tr><th scope="row">Thunderbird on desktop</th><td class="num">1</td>', clients)


async def test_what_no_campaign_id_can_be_is_left_out_of_a_comparison(staff, db):
    campaign_id = await sent(db)
    viewer = await staff("viewer")
    response = viewer.get(f"/campaigns/compare?campaigns={campaign_id}&campaigns=abc&campaigns={2**63}&campaigns=-1")
    assert response.status_code == 200
    table = response.text.split('class="compare-table"')[1].split("</table>")[0]
    assert re.findall(r'<a href="/campaigns/(\d+)/report">', table) == [str(campaign_id)]
