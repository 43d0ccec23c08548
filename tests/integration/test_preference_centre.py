"""The preference centre over HTTP: topics, frequency, language, leaving and joining lists,
unsubscribing from everything and opting in again, asking for one's data, reached with a contact's
own link or a campaign message's link; and the staff settings that feed it."""

from __future__ import annotations

import json
import re
import time

import httpx
from sqlalchemy import text

from tests.integration.test_tracking import sent_delivery
from tests.support.campaigns import smtp_server
from tests.support.smtp import SmtpSink
from tests.support.subscriptions import (
    members,
    public_list,
    queued_confirmations,
    subscription_rows,
    text_part,
    wait_for_messages,
)
from webapp.campaigns.models import Campaign
from webapp.contacts.models import Contact
from webapp.core.redis import get_redis
from webapp.core.tokens import make_token
from webapp.settings.service import organisation as org_settings
from webapp.subscriptions.service.tokens import data_token, preferences_token
from webapp.suppression.service import gdpr, suppression


async def arrange(db, status: str = "active"):
    """A contact on a public list and a private one, with a second public list to join."""
    news = await public_list(db, "News weekly")
    private = await public_list(db, "VIP", is_public=False)
    events = await public_list(db, "Events", consent_text="I want event invitations.")
    contact = Contact(email="pat@example.com", first_name="Pat", status=status)
    db.add(contact)
    await db.flush()
    contact_id = contact.id
    await db.execute(
        text("INSERT INTO list_members (list_id, contact_id) VALUES (:a, :c), (:b, :c)"),
        {"a": news.id, "b": private.id, "c": contact_id},
    )
    await db.commit()
    return contact_id, news, private, events


async def contact_row(db, contact_id: int) -> Contact:
    db.expire_all()
    return await db.get(Contact, contact_id)


async def test_choices_are_saved_lists_left_and_joined(db, live_server):
    contact_id, news, private, events = await arrange(db)
    url = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    describe = text("UPDATE email_lists SET description = :d WHERE id = :id")
    await db.execute(describe, [{"d": "Every Friday", "id": news.id}, {"d": "Staff: budget 10k", "id": private.id}])
    await db.commit()
    page = httpx.get(url)
    assert page.status_code == 200 and "pat@example.com" in page.text
    assert "Every Friday" in page.text and "budget 10k" not in page.text  # a private list's note is for staff
    for shown in (
        "News weekly",
        "VIP",
        "Events",
        "I want event invitations.",
        'value="Promotions"',
        "Only important news",
    ):
        assert shown in page.text

    saved = httpx.post(
        url,
        data={
            "topics_shown": "1",
            "topics": ["News", "Tips", "Made up"],
            "frequency": "monthly",
            "language": "es",
            "keep": [str(news.id)],
            "join": [str(events.id), str(private.id)],
            "action": "save",
        },
        headers={"User-Agent": "PrefsBrowser"},
    )
    assert saved.status_code == 200
    assert "Tus preferencias se han guardado." in saved.text and '<html lang="es">' in saved.text
    contact = await contact_row(db, contact_id)
    assert contact.topics == ["News", "Tips"]  # a topic the organisation does not offer is ignored
    assert (contact.frequency, contact.language, contact.status) == ("monthly", "es", "active")
    assert await members(db, news.id) == ["pat@example.com"]
    assert await members(db, events.id) == ["pat@example.com"]
    assert await members(db, private.id) == []  # left, and a private list cannot be joined from here
    rows = {r["list_id"]: r for r in await subscription_rows(db)}
    assert rows[private.id]["status"] == "unsubscribed" and rows[private.id]["unsubscribed_at"]
    assert rows[events.id]["status"] == "confirmed" and rows[events.id]["source"] == "preferences"
    assert rows[events.id]["consent_text"] == "I want event invitations."
    assert rows[events.id]["user_agent"] == "PrefsBrowser"
    assert news.id not in rows  # stayed on: nothing to record

    again = httpx.get(url)  # the page shows what was saved, in the chosen language
    assert "Noticias" in again.text and 'value="monthly" checked' in again.text
    assert '<option value="es" lang="es" selected>' in again.text


async def test_only_the_pages_buttons_change_anything_and_the_page_keeps_its_language(db, live_server):
    contact_id, news, private, _ = await arrange(db)
    await db.execute(text("UPDATE contacts SET language = 'en' WHERE id = :c"), {"c": contact_id})
    await db.commit()
    url = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    for data in ({}, {"action": "zzz"}):  # an empty form left every list before
        refused = httpx.post(url, data=data)
        assert refused.status_code == 400 and "Your preferences are saved." not in refused.text
    assert await members(db, news.id) == ["pat@example.com"] and await members(db, private.id) == ["pat@example.com"]

    # Read in Spanish, the emails' language left at English: the answer stays in Spanish
    kept = [str(news.id), str(private.id)]
    saved = httpx.post(url, data={"action": "save", "lang": "es", "language": "en", "keep": kept})
    assert "Tus preferencias se han guardado." in saved.text and '<html lang="es">' in saved.text
    assert (await contact_row(db, contact_id)).language == "en"
    left = httpx.post(url, data={"action": "unsubscribe-all", "lang": "es"})
    assert '<html lang="es">' in left.text and left.text.count('class="notice') == 1  # not a second notice


async def test_a_contact_who_has_not_confirmed_is_told_so(db, live_server):
    contact_id, *_ = await arrange(db, status="pending")
    page = httpx.get(f"{live_server}/u/preferences/{preferences_token(contact_id)}")
    assert "Your subscription is waiting for you to confirm it" in page.text
    assert "subscribe again" not in page.text


async def test_unsubscribe_from_all_then_opt_in_again(db, live_server):
    contact_id, news, private, events = await arrange(db)
    await suppression.add(db, "pat@example.com", "unsubscribe", source="test")
    await db.commit()
    url = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    done = httpx.post(url, data={"action": "unsubscribe-all"})
    assert done.status_code == 200 and "You are unsubscribed from all marketing email." in done.text
    assert (await contact_row(db, contact_id)).status == "unsubscribed"
    assert await members(db, news.id) == [] and await members(db, private.id) == []
    assert {r["status"] for r in await subscription_rows(db)} == {"unsubscribed"}

    page = httpx.get(url)
    assert 'id="not-receiving"' in page.text and 'name="keep"' not in page.text
    nothing = httpx.post(url, data={"action": "save", "language": "en"})  # saving without ticking a list
    assert nothing.status_code == 200 and (await contact_row(db, contact_id)).status == "unsubscribed"

    back = httpx.post(url, data={"action": "save", "join": [str(events.id)]})
    assert back.status_code == 200
    assert (await contact_row(db, contact_id)).status == "active"
    assert await members(db, events.id) == ["pat@example.com"] and await members(db, news.id) == []
    assert not await suppression.is_suppressed(db, "pat@example.com")  # their own opt-out, reversed by them


async def test_campaign_links_open_it_and_leaving_all_counts_as_the_campaigns_unsubscribe(db, live_server):
    campaign_id, delivery_id, _ = await sent_delivery(db)
    url = f"{live_server}/u/preferences/{make_token('unsubscribe', delivery_id)}"
    assert "person0@example.com" in httpx.get(url).text
    httpx.post(url, data={"action": "unsubscribe-all"})
    db.expire_all()
    assert (await db.get(Campaign, campaign_id)).unsubscribed_count == 1
    assert await db.scalar(text("SELECT status FROM contacts")) == "unsubscribed"
    assert await db.scalar(text("SELECT count(*) FROM list_members")) == 0


async def test_forged_links_get_a_clear_page(db, live_server):
    contact_id, *_ = await arrange(db)
    token = preferences_token(contact_id)
    for bad in (token[:-2] + "xx", make_token("open", 1), "nonsense"):
        page = httpx.get(f"{live_server}/u/preferences/{bad}", headers={"Accept-Language": "es"})
        assert page.status_code == 404 and "Este enlace no es válido" in page.text
        assert httpx.post(f"{live_server}/u/preferences/{bad}", data={"action": "unsubscribe-all"}).status_code == 404
        assert httpx.post(f"{live_server}/u/preferences/{bad}/data").status_code == 404
    assert (await contact_row(db, contact_id)).status == "active"


async def test_my_data_is_downloaded_from_a_link_mailed_to_the_address_only(db, live_server, worker):
    """The preference centre's link is in every message, and messages get forwarded: whoever has it
    may ask for the data, but the link to download it goes to the address itself."""
    contact_id, news, private, events = await arrange(db)
    url = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    httpx.post(url, data={"action": "save", "keep": [str(news.id), str(private.id)], "join": [str(events.id)]})
    assert httpx.get(f"{url}/data").status_code == 405  # the preference link alone downloads nothing
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        # Read in Spanish by a contact whose language is English: the email speaks as the page did.
        asked = httpx.post(f"{url}/data", data={"lang": "es"})
        assert asked.status_code == 200
        assert "Te hemos enviado por correo un enlace para descargar tus datos" in asked.text
        again = httpx.post(f"{url}/data")
        assert "please use that one, or ask again in 60 minutes" in again.text
        in_spanish = httpx.post(f"{url}/data", data={"lang": "es"}, headers={"Accept-Language": "en"})
        assert "Te enviamos un enlace hace menos de una hora" in in_spanish.text
        assert await queued_confirmations(get_redis()) == 1
        worker("subscribe-worker", MAILROOM_BASE_URL=live_server)
        [message] = await wait_for_messages(sink, 1)
    assert message["To"] == "pat@example.com" and message["Subject"] == "Tus datos: un enlace para descargarlos"
    link = re.search(r"https?://\S+/u/data/[\w.\-]+", text_part(message)).group(0)
    assert "El enlace funciona durante 24 horas" in text_part(message)

    assert httpx.head(link).status_code == 200  # a mail scanner's check downloads nothing, and the link still works
    response = httpx.get(link)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["contact"]["email"] == "pat@example.com"
    [consent] = data["consent_records"]
    assert consent["status"] == "confirmed" and consent["consent_text"] == "I want event invitations."

    expired = httpx.get(f"{live_server}/u/data/{data_token(contact_id, issued_at=time.time() - 25 * 3600)}")
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert f'href="/u/preferences/{preferences_token(contact_id)}"' in expired.text
    for forged in (preferences_token(contact_id), data_token(contact_id)[:-2] + "xx", data_token(contact_id + 1)):
        page = httpx.get(f"{live_server}/u/data/{forged}")
        assert page.status_code == 404 and "This link is not valid" in page.text


async def test_no_data_link_goes_to_an_address_staff_suppressed(db, live_server):
    contact_id, *_ = await arrange(db, status="complained")
    await suppression.add(db, "pat@example.com", "complaint", note="Reported as spam.")
    await db.commit()
    url = f"{live_server}/u/preferences/{preferences_token(contact_id)}"
    assert 'action="/u/preferences/' not in httpx.get(url).text.split('id="my-data"')[1]
    asked = httpx.post(f"{url}/data")
    assert asked.status_code == 200 and "To get a copy of everything we keep about you, please contact us" in asked.text
    assert "We have emailed you" not in asked.text and await queued_confirmations(get_redis()) == 0


async def test_topics_are_an_organisation_setting(db, live_server, staff):
    contact_id, *_ = await arrange(db)
    admin = await staff("admin")
    form = {"organisation_name": "Acme", "postal_address": "1 Main St"}
    bad = admin.post("/settings/organisation", data={**form, "subscription_topics": "Fine, " + "x" * 60})
    assert bad.status_code == 422 and "is longer than 50 characters" in bad.text
    assert (
        admin.post(
            "/settings/organisation", data={**form, "subscription_topics": "Product news, Webinars, product NEWS"}
        ).status_code
        == 303
    )
    assert (await org_settings.load(db)).subscription_topics == ("Product news", "Webinars")
    assert 'value="Product news, Webinars"' in admin.get("/settings/organisation").text
    page = httpx.get(f"{live_server}/u/preferences/{preferences_token(contact_id)}")
    assert (
        'value="Product news"' in page.text
        and 'value="Webinars"' in page.text
        and 'value="Promotions"' not in page.text
    )


async def test_unsubscribe_page_speaks_the_contacts_language(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    await db.execute(text("UPDATE contacts SET language = 'es'"))
    await db.commit()
    page = httpx.get(f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}")
    assert page.status_code == 200 and "¿Darte de baja?" in page.text
    await db.execute(text("UPDATE contacts SET language = ''"))
    await db.commit()
    url = f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"
    read_in_spanish = httpx.get(url, params={"lang": "es"}, headers={"Accept-Language": "en"}).text
    assert 'name="lang" value="es"' in read_in_spanish  # the button's form carries the page's language
    pressed = httpx.post(url, data={"lang": "es"}, headers={"Accept-Language": "en"})
    assert "Te has dado de baja" in pressed.text
    done = httpx.post(f"{url}?lang=en")
    assert "You are unsubscribed" in done.text


async def test_the_unsubscribe_page_of_an_erased_contact_names_no_empty_address(db, live_server):
    _, delivery_id, _ = await sent_delivery(db)
    contact_id = await db.scalar(text("SELECT contact_id FROM deliveries WHERE id = :d"), {"d": delivery_id})
    await gdpr.erase_contact(db, contact_id, actor="Editor")
    await db.commit()
    url = f"{live_server}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"
    page = httpx.get(url, headers={"Accept-Language": "en"}).text
    assert "Stop all marketing email to this address." in page and "email to ." not in page
    done = httpx.post(url, headers={"Accept-Language": "en"}).text
    assert "This address will not receive marketing email from us any more." in done
