"""A subscriber on a phone (issue 4): signs up on a public list's hosted page, confirms from the
email a real worker sent to a real SMTP server (aiosmtpd), changes preferences and unsubscribes."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import text

from tests.conftest import run_db
from tests.support.campaigns import smtp_server
from tests.support.screenshots import shot
from tests.support.smtp import SmtpSink
from tests.support.subscriptions import confirm_link, public_list
from tests.support.workers import WorkerProcess
from webapp.settings.service import organisation as org_settings

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def arrange(sink_port: int):
    async def go(session):
        await org_settings.save(
            session,
            org_settings.OrgSettings(
                organisation_name="Northwind Outfitters",
                postal_address="12 Harbour Road, Bristol BS1 4RN",
                default_from_name="Northwind",
                default_from_email="news@northwind.example",
            ),
        )
        await smtp_server(session, sink_port)
        await session.commit()
        newsletter = await public_list(
            session,
            "Northwind Newsletter",
            consent_text="I agree to receive the newsletter and accept the privacy policy.",
        )
        events = await public_list(session, "Store events")
        return newsletter.id, events.id

    return run_db(go)


def state(email: str) -> dict:
    async def go(session):
        contact = (
            await session.execute(
                text("SELECT id, status, topics, frequency, language FROM contacts WHERE email = :e"), {"e": email}
            )
        ).one()
        lists = list(
            await session.scalars(
                text(
                    "SELECT l.name FROM list_members m JOIN email_lists l ON l.id = m.list_id WHERE m.contact_id = :c "
                    "ORDER BY l.name"
                ),
                {"c": contact.id},
            )
        )
        subscriptions = dict(
            (
                await session.execute(
                    text(
                        "SELECT l.name, s.status FROM subscriptions s JOIN email_lists l ON l.id = s.list_id "
                        "WHERE s.contact_id = :c"
                    ),
                    {"c": contact.id},
                )
            ).all()
        )
        return {
            "status": contact.status,
            "topics": contact.topics,
            "frequency": contact.frequency,
            "language": contact.language,
            "lists": lists,
            "subscriptions": subscriptions,
        }

    return run_db(go)


def wait_for_mail(sink: SmtpSink, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not sink.messages:
        assert time.monotonic() < deadline, "no confirmation email arrived"
        time.sleep(0.1)
    return sink.messages[0]


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"


def test_subscribe_confirm_change_preferences_and_unsubscribe_on_a_phone(clean, browser, base_url):
    with SmtpSink() as sink:
        newsletter_id, _ = arrange(sink.port)
        worker = WorkerProcess("subscribe-browser-worker", MAILROOM_BASE_URL=base_url).start()
        context = browser.new_context(**PHONE)
        page = context.new_page()
        try:
            page.goto(f"{base_url}/subscribe/{newsletter_id}")
            expect(page.locator("h1")).to_have_text("Northwind Newsletter")
            assert page.locator("#website").bounding_box()["x"] < -1000  # the honeypot is off screen
            submit = page.get_by_role("button", name="Subscribe")
            assert submit.bounding_box()["height"] >= 44
            fits_the_phone(page)
            shot(page, "subscribe-phone")

            page.fill("#email", "sam@example.com")
            page.fill("#first_name", "Sam")
            submit.click()  # without the consent box: told next to it, typed values kept
            expect(page.locator("#consent-error")).to_be_visible()
            expect(page.locator("#email")).to_have_value("sam@example.com")
            page.get_by_label("I agree to receive the newsletter").check()
            page.get_by_role("button", name="Subscribe").click()
            expect(page.locator("#subscribe-done h1")).to_have_text("Check your inbox")
            shot(page, "subscribe-done-phone")
            assert state("sam@example.com")["status"] == "pending"

            message = wait_for_mail(sink)
            assert message["Subject"] == "Confirm your subscription to Northwind Newsletter"
            page.goto(confirm_link(message))
            expect(page.locator("#confirm h1")).to_have_text("Confirm your subscription")
            assert state("sam@example.com")["status"] == "pending"  # following the link, as a mail scanner does
            fits_the_phone(page)
            page.get_by_role("button", name="Confirm my subscription").click()
            expect(page.locator("#confirmed h1")).to_have_text("You are subscribed")
            after_confirm = state("sam@example.com")
            assert after_confirm["status"] == "active" and after_confirm["lists"] == ["Northwind Newsletter"]

            page.get_by_role("link", name="Manage your preferences").click()
            expect(page.locator("#preferences h1")).to_have_text("Email preferences")
            page.get_by_label("Tips").check()
            page.get_by_label("Events", exact=True).check()
            page.get_by_label("Monthly").check()
            page.select_option("#language", "es")
            page.get_by_label("Store events").check()
            fits_the_phone(page)
            leave_all = page.get_by_role("button", name="Unsubscribe from all marketing email")
            edge = leave_all.evaluate("button => getComputedStyle(button).borderTopColor")
            assert edge == "rgb(123, 133, 148)"  # --field-border: 3:1 on white, where #d5dae1 was 1.4:1
            shot(page, "preferences-phone")
            page.get_by_role("button", name="Save preferences").click()
            expect(page.get_by_role("status")).to_have_text("Tus preferencias se han guardado.")
            expect(page.get_by_label("Consejos")).to_be_checked()
            saved = state("sam@example.com")
            assert saved["topics"] == ["Tips", "Events"] and saved["frequency"] == "monthly"
            assert saved["language"] == "es"
            assert saved["lists"] == ["Northwind Newsletter", "Store events"]
            shot(page, "preferences-saved-es-phone")

            page.get_by_label("Store events").uncheck()
            page.get_by_role("button", name="Guardar preferencias").click()
            expect(page.get_by_role("status")).to_have_text("Tus preferencias se han guardado.")
            assert state("sam@example.com")["lists"] == ["Northwind Newsletter"]
            assert state("sam@example.com")["subscriptions"]["Store events"] == "unsubscribed"

            page.get_by_role("button", name="Darme de baja de todos los correos comerciales").click()
            expect(page.get_by_role("status")).to_have_text("Te has dado de baja de todos los correos comerciales.")
            gone = state("sam@example.com")
            assert gone["status"] == "unsubscribed" and gone["lists"] == []
            assert set(gone["subscriptions"].values()) == {"unsubscribed"}
            shot(page, "unsubscribed-es-phone")
        finally:
            context.close()
            worker.stop()
    assert len(sink.messages) == 1
