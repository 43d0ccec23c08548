"""Public subscription over HTTP against the real server: the hosted page and embedded form, double
and single opt-in, the consent record, signed expiring confirmation links, and the abuse guards
(honeypot, rate limit, no disclosure, one confirmation email an hour)."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import text

from tests.support.campaigns import smtp_server
from tests.support.smtp import SmtpSink
from tests.support.subscriptions import (
    confirm_link,
    members,
    public_list,
    queued_confirmations,
    subscription_rows,
    text_part,
    wait_for_messages,
)
from webapp.contacts.models import Contact
from webapp.core.redis import get_redis
from webapp.settings.service import organisation as org_settings
from webapp.subscriptions.service.tokens import confirm_token

CONSENT = "I agree to receive the Newsletter & accept the <privacy policy>."


def sign_up(base: str, list_id: int, email: str, **fields) -> httpx.Response:
    data = {"email": email, "first_name": "Ana", **fields}
    return httpx.post(f"{base}/subscribe/{list_id}", data=data, headers={"User-Agent": "TestBrowser/1.0"})


async def test_double_opt_in_from_the_embedded_form_to_a_confirmed_member(db, live_server, worker):
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Northwind",
            postal_address="12 Harbour Road\r\n\r\nPortsmouth",
            default_from_email="news@northwind.example",
        ),
    )
    email_list = await public_list(db, consent_text=CONSENT)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        page = httpx.get(f"{live_server}/subscribe/{email_list.id}")
        assert page.status_code == 200 and 'name="website"' in page.text
        assert "<p>Northwind, 12 Harbour Road, Portsmouth</p>" in page.text  # the address's lines kept apart
        assert "I agree to receive the Newsletter &amp; accept the &lt;privacy policy&gt;." in page.text

        # The embedded form: no cookie, no CSRF token.
        done = sign_up(live_server, email_list.id, "Ana@Example.com", consent="yes", source="form")
        assert done.status_code == 200 and "Check your inbox" in done.text
        assert "set-cookie" not in done.headers
        [record] = await subscription_rows(db)
        assert record["status"] == "pending" and record["contact_status"] == "pending"
        assert record["email"] == "Ana@example.com" and record["source"] == "form"
        assert record["ip_address"] == "127.0.0.1" and record["user_agent"] == "TestBrowser/1.0"
        assert record["consent_text"] == CONSENT and record["confirmed_at"] is None and record["created_at"]
        assert await members(db, email_list.id) == []

        sign_up(live_server, email_list.id, "ana@example.com", consent="yes")  # again, within the hour
        assert await queued_confirmations(get_redis()) == 1
        worker("subscribe-worker", MAILROOM_BASE_URL=live_server)
        [message] = await wait_for_messages(sink, 1)
        assert message["Subject"] == "Confirm your subscription to Newsletter"
        assert message["From"] == "Northwind <news@northwind.example>" and message["To"] == "Ana@example.com"
        assert "12 Harbour Road" in text_part(message) and "/u/preferences/" in text_part(message)

        link = confirm_link(message)
        assert httpx.head(link).status_code == 200  # some scanners only ask whether the link works
        asked = httpx.get(link)  # what a mail scanner that follows the link sees: nothing changes
        assert asked.status_code == 200 and "Confirm your subscription" in asked.text
        assert f'<form method="post" action="{httpx.URL(link).path}">' in asked.text
        assert [r["status"] for r in await subscription_rows(db)] == ["pending"]
        assert await members(db, email_list.id) == []
        confirmed = httpx.post(link)  # the button
        assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
        [record] = await subscription_rows(db)
        assert record["status"] == "confirmed" and record["confirmed_at"] is not None
        assert record["contact_status"] == "active"
        assert await members(db, email_list.id) == ["Ana@example.com"]
        for again in (httpx.get(link), httpx.post(link)):  # the link followed again, the button pressed again
            assert again.status_code == 200 and "You are subscribed" in again.text
        assert len(sink.messages) == 1


async def test_confirmation_actor_is_idempotent(db, live_server, worker):
    email_list = await public_list(db)
    with SmtpSink() as sink:
        await smtp_server(db, sink.port)
        await db.commit()
        sign_up(live_server, email_list.id, "twice@example.com")
        [record] = await subscription_rows(db)
        from webapp.subscriptions.actors import send_confirmation

        send_confirmation.send(record["id"])  # the same message delivered twice
        assert await queued_confirmations(get_redis()) == 2
        worker("subscribe-worker", MAILROOM_BASE_URL=live_server)
        await wait_for_messages(sink, 1)
        for _ in range(600):  # until the worker has taken both messages off the queue
            if not await queued_confirmations(get_redis()):
                break
            await asyncio.sleep(0.1)
        assert await queued_confirmations(get_redis()) == 0
        assert [m["To"] for m in sink.messages] == ["twice@example.com"]


async def test_single_opt_in_subscribes_at_once(db, live_server):
    email_list = await public_list(db, "Deals", double_opt_in=False)
    done = sign_up(live_server, email_list.id, "quick@example.com")
    assert done.status_code == 200 and "We have your sign-up to Deals for quick@example.com." in done.text
    [record] = await subscription_rows(db)
    assert record["status"] == "confirmed" and record["confirmed_at"] and record["source"] == "page"
    assert record["contact_status"] == "active"
    assert await members(db, email_list.id) == ["quick@example.com"]
    assert await queued_confirmations(get_redis()) == 0


async def test_opted_out_contacts_confirm_first_even_on_single_opt_in_lists(db, live_server):
    old = await public_list(db, "Old list", is_public=False)
    db.add(Contact(email="gone@example.com", first_name="Kept", status="unsubscribed"))
    await db.flush()
    await db.execute(text("INSERT INTO list_members (list_id, contact_id) SELECT :l, id FROM contacts"), {"l": old.id})
    await db.commit()
    email_list = await public_list(db, "Deals", double_opt_in=False)

    done = sign_up(live_server, email_list.id, "gone@example.com", first_name="Stranger")
    assert done.status_code == 200 and "is subscribed" not in done.text  # the same page as for anyone, nothing false
    assert "We have your sign-up to Deals for gone@example.com." in done.text
    [record] = await subscription_rows(db)
    assert record["status"] == "pending" and record["contact_status"] == "unsubscribed"
    assert await members(db, email_list.id) == []
    assert await queued_confirmations(get_redis()) == 1

    confirmed = httpx.post(f"{live_server}/subscribe/confirm/{confirm_token(record['id'], email_list.id)}")
    assert confirmed.status_code == 200
    assert await members(db, email_list.id) == ["gone@example.com"]
    # Opting into one list after leaving everything is no consent to the old lists.
    assert await members(db, old.id) == []
    rows = {r["list_id"]: r for r in await subscription_rows(db)}
    assert rows[old.id]["status"] == "unsubscribed" and rows[old.id]["unsubscribed_at"]
    contact = await db.scalar(text("SELECT row(status, first_name)::text FROM contacts"))
    assert contact == "(active,Kept)"  # a sign-up never rewrites the profile


async def test_confirmation_links_are_signed_and_expire(db, live_server):
    email_list = await public_list(db)
    sign_up(live_server, email_list.id, "late@example.com")
    [record] = await subscription_rows(db)
    token = confirm_token(record["id"], email_list.id)

    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (tampered, "not-a-token", confirm_token(record["id"], email_list.id + 1)):
        url = f"{live_server}/subscribe/confirm/{bad}"
        for page in (httpx.get(url), httpx.post(url)):
            assert page.status_code == 404 and "This link is not valid" in page.text

    old = confirm_token(record["id"], email_list.id, issued_at=time.time() - 49 * 3600)
    old_url = f"{live_server}/subscribe/confirm/{old}"
    for expired in (httpx.get(old_url), httpx.post(old_url)):
        assert expired.status_code == 410 and "This link has expired" in expired.text
        assert f'action="/subscribe/confirm/{old}/resend"' in expired.text
        assert 'href="?lang=es"' in expired.text  # the same page in Spanish: a GET of the link shows it again
    assert [r["status"] for r in await subscription_rows(db)] == ["pending"]
    assert await members(db, email_list.id) == []

    await get_redis().flushdb()  # as if the hour had passed since the first email
    resent = httpx.post(f"{live_server}/subscribe/confirm/{old}/resend", data={"lang": "es"})
    assert resent.status_code == 200 and "Revisa tu bandeja de entrada" in resent.text  # as the page was read
    assert await queued_confirmations(get_redis()) == 1
    assert httpx.post(f"{live_server}/subscribe/confirm/{tampered}/resend").status_code == 404

    fresh = httpx.post(f"{live_server}/subscribe/confirm/{token}")
    assert fresh.status_code == 200 and await members(db, email_list.id) == ["late@example.com"]


async def test_honeypot_looks_like_success_and_keeps_nothing(db, live_server):
    email_list = await public_list(db)
    bot = sign_up(live_server, email_list.id, "bot@example.com", website="http://spam.example")
    human = sign_up(live_server, email_list.id, "bot@example.com")
    assert bot.status_code == human.status_code == 200
    assert bot.text == human.text
    # Only the human's sign-up left a trace.
    assert len(await subscription_rows(db)) == 1
    await db.execute(text("TRUNCATE contacts CASCADE"))
    await db.commit()
    sign_up(live_server, email_list.id, "other@example.com", website="x")
    assert await db.scalar(text("SELECT count(*) FROM contacts")) == 0


async def test_sign_ups_are_rate_limited_per_ip(db, live_server):
    email_list = await public_list(db)
    for n in range(10):
        assert sign_up(live_server, email_list.id, f"person{n}@example.com").status_code == 200
    refused = sign_up(live_server, email_list.id, "one-more@example.com")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many attempts" in refused.text and "try again in 10 minutes" in refused.text
    assert await db.scalar(text("SELECT count(*) FROM contacts WHERE email = 'one-more@example.com'")) == 0
    assert httpx.get(f"{live_server}/subscribe/{email_list.id}").status_code == 200  # reading is not limited


async def test_responses_never_tell_whether_an_address_is_subscribed(db, live_server):
    email_list = await public_list(db)
    new = sign_up(live_server, email_list.id, "who@example.com")
    pending = sign_up(live_server, email_list.id, "who@example.com")
    [record] = await subscription_rows(db)
    token = confirm_token(record["id"], email_list.id)
    assert httpx.post(f"{live_server}/subscribe/confirm/{token}").status_code == 200
    confirmed = sign_up(live_server, email_list.id, "who@example.com")
    assert new.status_code == pending.status_code == confirmed.status_code == 200
    assert new.text == pending.text == confirmed.text
    assert dict(new.headers).keys() == dict(confirmed.headers).keys()

    single = await public_list(db, "Deals", double_opt_in=False)
    answers = [
        sign_up(live_server, single.id, "who@example.com"),  # active member of another list
        sign_up(live_server, single.id, "who@example.com"),  # now a member
        sign_up(live_server, single.id, "fresh@example.com"),
    ]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].text == answers[1].text == answers[2].text.replace("fresh@example.com", "who@example.com")


async def test_bad_input_is_shown_next_to_the_field_and_kept(db, live_server):
    email_list = await public_list(db, consent_text=CONSENT)
    bad = sign_up(live_server, email_list.id, "not-an-address", first_name="Zoë <b>")
    assert bad.status_code == 422
    assert 'id="email-error">Enter a valid email address.' in bad.text
    assert 'id="consent-error">Tick the box to agree before subscribing.' in bad.text
    assert 'value="not-an-address"' in bad.text and 'value="Zoë &lt;b&gt;"' in bad.text
    assert 'class="languages"' not in bad.text  # its links open an empty form: what was typed would go
    spanish = sign_up(live_server, email_list.id, "nope", lang="es")
    assert spanish.status_code == 422 and "Escribe una dirección de correo válida." in spanish.text
    blank = sign_up(live_server, email_list.id, " ")
    assert 'id="email-error">Enter your email address.' in blank.text
    too_long = sign_up(live_server, email_list.id, "a" * 250 + "@example.com")
    assert 'id="email-error">This email address is too long.' in too_long.text
    not_utf8 = httpx.post(
        f"{live_server}/subscribe/{email_list.id}",
        content=b"email=ok%40example.com&first_name=%ff%fe&consent=yes",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert not_utf8.status_code == 422 and "Write your name on one line, without special characters." in not_utf8.text
    assert await db.scalar(text("SELECT count(*) FROM contacts")) == 0


async def test_only_public_active_lists_have_pages(db, live_server):
    private = await public_list(db, "Private", is_public=False)
    archived = await public_list(db, "Archived", is_active=False)
    for email_list in (private, archived):
        assert httpx.get(f"{live_server}/subscribe/{email_list.id}").status_code == 404
        assert sign_up(live_server, email_list.id, "x@example.com").status_code == 404
    assert httpx.get(f"{live_server}/subscribe/999999").status_code == 404
    assert await db.scalar(text("SELECT count(*) FROM contacts")) == 0


async def test_pages_speak_spanish_when_asked(db, live_server):
    email_list = await public_list(db)
    by_query = httpx.get(f"{live_server}/subscribe/{email_list.id}?lang=es")
    assert '<html lang="es">' in by_query.text and "Suscribirme" in by_query.text
    assert by_query.headers["content-language"] == "es"
    by_browser = httpx.get(f"{live_server}/subscribe/{email_list.id}", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert "Correo electrónico" in by_browser.text
    query_wins = httpx.get(f"{live_server}/subscribe/{email_list.id}?lang=en", headers={"Accept-Language": "es"})
    assert "Subscribe" in query_wins.text and "Suscribirme" not in query_wins.text
    done = sign_up(live_server, email_list.id, "hola@example.com", lang="es")
    assert "Revisa tu bandeja de entrada" in done.text
    assert 'class="languages"' not in done.text  # its links would open an empty sign-up form
    assert await db.scalar(text("SELECT language FROM contacts")) == "es"


async def test_odd_input_never_breaks_the_pages(db, live_server):
    email_list = await public_list(db, consent_text="OK?")
    for path in (
        "/subscribe/abc",
        "/subscribe/99999999999999999999",
        "/subscribe/-1",
        "/subscribe/0",
        "/subscribe/confirm/" + "A" * 3000,
        "/subscribe/confirm/%00",
    ):
        assert httpx.get(live_server + path).status_code in (400, 404), path
    odd = sign_up(
        live_server,
        email_list.id,
        "x" * 5000 + "@example.com",
        first_name="\x00" + "y" * 500,
        consent=["yes", "no"],
        source="<script>",
        lang="../../etc",
    )
    assert odd.status_code == 422 and "Write your name on one line, without special characters." in odd.text
    for name in ("Eve\r\nBcc: evil@example.com", "Eve\tAdams", "Eve\u202etxt", "Eve\x07"):
        refused = sign_up(live_server, email_list.id, "eve@example.com", first_name=name, consent="yes")
        assert refused.status_code == 422 and "on one line" in refused.text, repr(name)
    too_long = sign_up(live_server, email_list.id, "eve@example.com", first_name="y" * 500, consent="yes")
    assert too_long.status_code == 422 and "Your name is too long." in too_long.text
    assert httpx.post(
        f"{live_server}/subscribe/{email_list.id}",
        content=b"\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).status_code in (200, 400, 422)
    not_utf8 = httpx.post(
        f"{live_server}/subscribe/{email_list.id}",
        content=b"email=%ED%A0%80%40example.com&consent=yes",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert not_utf8.status_code == 422 and "Enter a valid email address." in not_utf8.text
    assert (
        await db.scalar(
            text("SELECT count(*) FROM contacts WHERE email LIKE '%@example.com' AND email LIKE '%\ufffd%'")
        )
        == 0
    )
    weird_source = sign_up(live_server, email_list.id, "fine@example.com", consent="yes", source="<script>")
    assert weird_source.status_code == 200
    assert [r["source"] for r in await subscription_rows(db)] == ["page"]
