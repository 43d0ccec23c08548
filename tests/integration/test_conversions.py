"""Revenue attribution against the real server: POST /api/conversions (created, repeated, a
conflicting repeat, every bad field named, an unknown contact), attribution to the contact's last
human click within the window, the signed conversion pixel for a shop's thank-you page, and the
revenue on a campaign's report, each currency apart."""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import func, select, text

from tests.support.conversions import Sent, click, sent_to
from webapp.conversions.models import Conversion
from webapp.conversions.service import settings as conversion_settings
from webapp.suppression.service import gdpr

ADA = "ada@example.com"


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


def order(**overrides) -> dict:
    return {"email": ADA, "amount": "49.90", "currency": "EUR", "order_id": "A-1001", **overrides}


async def test_a_conversion_is_created_once_per_order_and_a_repeat_answers_with_it(api, db):
    sent = await sent_to(db, ADA)
    await db.commit()
    client = await api("editor")
    created = client.post("/api/conversions", json=order())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["order_id"], body["amount"], body["currency"], body["contact_id"]) == (
        "A-1001",
        "49.90",
        "EUR",
        sent.contact_id,
    )
    again = client.post("/api/conversions", json=order(email="ADA@example.com"))
    assert again.status_code == 200 and again.json() == body
    assert await db.scalar(select(func.count()).select_from(Conversion)) == 1


async def test_the_same_order_posted_at_once_is_stored_once(api, db):
    await sent_to(db, ADA)
    await db.commit()
    client = await api("editor")
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: client.post("/api/conversions", json=order()).status_code, range(8)))
    assert statuses == [200] * 7 + [201]
    assert await db.scalar(select(func.count()).select_from(Conversion)) == 1


async def test_a_repeat_with_another_amount_is_a_conflict_naming_the_amount(api, db):
    await sent_to(db, ADA)
    await db.commit()
    client = await api("editor")
    assert client.post("/api/conversions", json=order()).status_code == 201
    clash = client.post("/api/conversions", json=order(amount="50.00"))
    assert clash.status_code == 409 and "amount" in fields(clash)
    assert await db.scalar(select(Conversion.amount)) == Decimal("49.90")


async def test_amounts_are_stored_exactly_from_json_numbers_too(api, db):
    await sent_to(db, ADA)
    await db.commit()
    client = await api("editor")
    exact = client.post(
        "/api/conversions",
        content=b'{"email": "ada@example.com", "amount": 0.1000, "currency": "KWD", "order_id": "K-1"}',
        headers={"content-type": "application/json"},
    )
    assert exact.status_code == 201, exact.text
    assert exact.json()["amount"] == "0.1000"
    assert await db.scalar(select(Conversion.amount)) == Decimal("0.1000")


async def test_bad_fields_are_each_named(api, db):
    client = await api("editor")
    bad = client.post(
        "/api/conversions",
        json={"email": "not an address", "amount": "-3", "currency": "EURO", "order_id": " ", "occurred_at": "soon"},
    )
    assert bad.status_code == 422
    assert set(fields(bad)) == {"email", "amount", "currency", "order_id", "occurred_at"}
    checks = {
        "amount": [order(amount="0"), order(amount="abc"), order(amount="1.23456"), order(amount="NaN")],
        "currency": [order(currency="ABC"), order(currency="eu")],
        "order_id": [{k: v for k, v in order().items() if k != "order_id"}],
        "email": [{k: v for k, v in order().items() if k != "email"}],
        "occurred_at": [order(occurred_at="tomorrow-ish")],
        "colour": [order(colour="red")],
    }
    for field, bodies in checks.items():
        for body in bodies:
            response = client.post("/api/conversions", json=body)
            assert response.status_code in (400, 422) and field in fields(response), (body, response.text)


async def test_an_unknown_contact_is_refused_naming_the_field(api, db):
    client = await api("editor")
    by_email = client.post("/api/conversions", json=order(email="nobody@example.com"))
    assert by_email.status_code == 422 and "email" in fields(by_email)
    body = {k: v for k, v in order().items() if k != "email"}
    by_id = client.post("/api/conversions", json={**body, "contact_id": 999_999})
    assert by_id.status_code == 422 and "contact_id" in fields(by_id)


async def test_viewers_may_not_post_conversions(api, db):
    await sent_to(db, ADA)
    await db.commit()
    viewer = await api("viewer")
    assert viewer.post("/api/conversions", json=order()).status_code == 403


async def attributed(db, sent: Sent, *, clicks: list[tuple[timedelta, bool]], api_client, order_id="A-1") -> dict:
    now = datetime.now(UTC)
    for ago, machine in clicks:
        await click(db, sent, now - ago, machine=machine)
    await db.commit()
    response = api_client.post("/api/conversions", json=order(order_id=order_id, occurred_at=now.isoformat()))
    assert response.status_code == 201, response.text
    return response.json()["attribution"]


async def test_a_click_inside_the_window_is_credited_with_its_campaign_delivery_and_link(api, db):
    sent = await sent_to(db, ADA)
    credit = await attributed(db, sent, clicks=[(timedelta(days=6, hours=23), False)], api_client=await api())
    assert credit == {"campaign_id": sent.campaign_id, "delivery_id": sent.delivery_id, "link_id": sent.link_id}


async def test_a_click_older_than_the_window_is_not_credited_but_the_conversion_is_kept(api, db):
    sent = await sent_to(db, ADA)
    credit = await attributed(db, sent, clicks=[(timedelta(days=7, minutes=1), False)], api_client=await api())
    assert credit is None
    assert await db.scalar(select(func.count()).select_from(Conversion)) == 1


async def test_the_window_is_a_setting(api, db):
    sent = await sent_to(db, ADA)
    await conversion_settings.save_window_days(db, 30)
    credit = await attributed(db, sent, clicks=[(timedelta(days=20), False)], api_client=await api())
    assert credit is not None and credit["campaign_id"] == sent.campaign_id


async def test_machine_clicks_are_ignored_and_the_latest_human_click_wins(api, db):
    older = await sent_to(db, ADA, name="Older")
    newer = await sent_to(db, ADA, name="Newer")
    scanned = await sent_to(db, ADA, name="Scanned")
    now = datetime.now(UTC)
    await click(db, older, now - timedelta(days=3))
    await click(db, newer, now - timedelta(days=1))
    await click(db, scanned, now - timedelta(hours=1), machine=True)
    credit = await attributed(db, newer, clicks=[], api_client=await api())
    assert credit["campaign_id"] == newer.campaign_id


async def test_a_click_after_the_conversion_is_not_credited(api, db):
    sent = await sent_to(db, ADA)
    await click(db, sent, datetime.now(UTC) + timedelta(minutes=5))
    credit = await attributed(db, sent, clicks=[], api_client=await api())
    assert credit is None


def signed(key: str, params: dict[str, str]) -> dict[str, str]:
    message = "\n".join(params[name] for name in ("order_id", "email", "amount", "currency"))
    return {**params, "sig": hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()}


async def test_the_pixel_records_a_signed_conversion_and_refuses_a_bad_signature(live_server, db):
    sent = await sent_to(db, ADA)
    await click(db, sent, datetime.now(UTC) - timedelta(hours=2))
    key = await conversion_settings.snippet_key(db)
    await db.commit()
    params = {"order_id": "W-77", "email": ADA, "amount": "120.00", "currency": "GBP"}
    forged = httpx.get(f"{live_server}/u/conversion.gif", params={**params, "sig": "0" * 64})
    assert forged.status_code == 403
    tampered = signed(key, params) | {"amount": "1200.00"}
    assert httpx.get(f"{live_server}/u/conversion.gif", params=tampered).status_code == 403
    for sig in ("é" * 64, ""):
        assert httpx.get(f"{live_server}/u/conversion.gif", params={**params, "sig": sig}).status_code == 403
    assert httpx.get(f"{live_server}/u/conversion.gif", params=params).status_code == 403
    assert await db.scalar(select(func.count()).select_from(Conversion)) == 0

    good = httpx.get(f"{live_server}/u/conversion.gif", params=signed(key, params))
    assert good.status_code == 200 and good.headers["content-type"] == "image/gif"
    assert httpx.get(f"{live_server}/u/conversion.gif", params=signed(key, params)).status_code == 200
    rows = (await db.execute(text("SELECT order_id, amount, currency, campaign_id, source FROM conversions"))).all()
    assert rows == [("W-77", Decimal("120.00"), "GBP", sent.campaign_id, "pixel")]


async def test_the_report_and_the_api_show_revenue_per_currency_with_its_orders(api, staff, db):
    sent = await sent_to(db, ADA)
    await db.execute(
        text("UPDATE campaigns SET status = 'sent', started_at = now() WHERE id = :c"), {"c": sent.campaign_id}
    )
    client = await api("editor")
    await click(db, sent, datetime.now(UTC) - timedelta(hours=2))
    await db.commit()
    for order_id, amount, currency in [("1", "10.50", "EUR"), ("2", "5.25", "EUR"), ("3", "99", "USD")]:
        assert client.post(
            "/api/conversions", json=order(order_id=order_id, amount=amount, currency=currency)
        ).is_success
    totals = (await api("viewer")).get(f"/api/campaigns/{sent.campaign_id}/revenue")
    assert totals.status_code == 200
    assert totals.json() == [
        {"currency": "EUR", "orders": 2, "amount": "15.75"},
        {"currency": "USD", "orders": 1, "amount": "99"},
    ]
    assert (await api("viewer")).get("/api/campaigns/999999/revenue").status_code == 404
    page = (await staff("viewer")).get(f"/campaigns/{sent.campaign_id}/report")
    assert page.status_code == 200
    revenue = page.text.split('id="report-revenue"')[1].split("</section>")[0]
    assert "Revenue in EUR" in revenue and "€15.75" in revenue and "2 orders" in revenue
    assert "Revenue in USD" in revenue and "$99.00" in revenue and "1 order<" in revenue


async def test_a_contacts_export_lists_their_orders_and_erasing_them_keeps_the_revenue(api, db):
    sent = await sent_to(db, ADA)
    bought = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    await click(db, sent, bought - timedelta(hours=1))
    await db.commit()
    client = await api("editor")
    assert client.post("/api/conversions", json=order(occurred_at=bought.isoformat())).status_code == 201
    export = client.get(f"/api/contacts/{sent.contact_id}/export").json()
    assert export["conversions"] == [
        {
            "order_id": "A-1001",
            "amount": "49.90",
            "currency": "EUR",
            "occurred_at": bought.isoformat(),
            "campaign_id": sent.campaign_id,
        }
    ]
    await gdpr.erase_contact(db, sent.contact_id, actor="tests")
    await db.commit()
    assert await db.scalar(select(Conversion.contact_id)) is None
    revenue = client.get(f"/api/campaigns/{sent.campaign_id}/revenue").json()
    assert revenue == [{"currency": "EUR", "orders": 1, "amount": "49.90"}]
