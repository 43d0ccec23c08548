"""Settings → Feedback sources against the real web server: an admin sets each provider's
credentials (secrets encrypted at rest, never shown again, kept when left empty), sees the endpoint
URLs to paste into each provider, gets mistakes next to the fields, and turns a source off again;
editors and viewers never see the page. (test_roles.py and test_csrf.py sweep its routes too.)"""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.support import esp
from webapp.settings.models import AppSetting
from webapp.settings.service import feedback_sources

FORM = {
    "ses_topics": f"{esp.TOPIC}\narn:aws:sns:eu-west-1:123456789012:other-topic",
    "sendgrid_key": esp.sendgrid_public_key(),
    "postmark_user": "postmark-hook",
    "postmark_password": "postmark-password-0123",
    "mailgun_key": "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
    "generic_secret": "generic-secret-0123456789abcdef",
}


async def stored(db) -> str:
    db.expire_all()
    return json.dumps((await db.scalars(select(AppSetting.value).where(AppSetting.key == "feedback_sources"))).one())


async def test_an_admin_configures_every_source_with_secrets_encrypted_at_rest(staff, db, live_server):
    admin = await staff("admin")
    page = admin.get("/settings/feedback-sources")
    assert page.status_code == 200 and page.text.count('<span class="badge">off</span>') == 5
    for path in ("amazon-ses", "sendgrid", "postmark", "mailgun", "generic"):
        assert f"{live_server}/webhooks/{path}</code>" in page.text

    saved = admin.post("/settings/feedback-sources", data=FORM)
    assert saved.status_code == 303
    sources = await feedback_sources.load(db)
    assert sources.ses_topics == (esp.TOPIC, "arn:aws:sns:eu-west-1:123456789012:other-topic")
    assert (sources.postmark_user, sources.postmark_password) == ("postmark-hook", "postmark-password-0123")
    assert (sources.mailgun_key, sources.generic_secret) == (FORM["mailgun_key"], FORM["generic_secret"])
    assert all(sources.configured(p) for p in ("ses", "sendgrid", "postmark", "mailgun", "generic"))
    at_rest = await stored(db)
    for secret in ("postmark_password", "mailgun_key", "generic_secret", "sendgrid_key"):
        assert FORM[secret] not in at_rest, secret

    shown = admin.get("/settings/feedback-sources").text
    assert shown.count('<span class="badge active">receiving</span>') == 5
    assert esp.TOPIC in shown and FORM["sendgrid_key"] in shown  # a public key
    for secret in ("postmark_password", "mailgun_key", "generic_secret"):
        assert FORM[secret] not in shown, secret


async def test_empty_secrets_keep_the_saved_ones_and_sources_are_turned_off(staff, db):
    admin = await staff("admin")
    admin.post("/settings/feedback-sources", data=FORM)
    kept = {**FORM, "postmark_password": "", "mailgun_key": "", "generic_secret": ""}
    assert admin.post("/settings/feedback-sources", data=kept).status_code == 303
    sources = await feedback_sources.load(db)
    assert (sources.postmark_password, sources.mailgun_key) == (FORM["postmark_password"], FORM["mailgun_key"])

    off = {"ses_topics": "", "sendgrid_key": "", "postmark_user": "", "mailgun_remove": "yes", "generic_remove": "yes"}
    assert admin.post("/settings/feedback-sources", data=off).status_code == 303
    sources = await feedback_sources.load(db)
    assert not any(sources.configured(p) for p in ("ses", "sendgrid", "postmark", "mailgun", "generic"))
    assert sources.postmark_password == ""  # forgotten with its user


async def test_mistakes_are_shown_next_to_the_fields_and_nothing_is_saved(staff, db):
    admin = await staff("admin")
    wrong = {
        "ses_topics": "arn:aws:sqs:us-east-1:123456789012:a-queue",
        "sendgrid_key": "not a key",
        "postmark_user": "a:b",
        "postmark_password": "short",
        "mailgun_key": "short",
        "generic_secret": "",
    }
    response = admin.post("/settings/feedback-sources", data=wrong)
    assert response.status_code == 422
    assert response.text.count('class="field invalid"') == 5
    assert "is not an SNS topic ARN" in response.text
    assert "Paste the verification key SendGrid shows" in response.text
    assert "A user name cannot contain &#39;:&#39;." in response.text
    assert response.text.count("Use at least 16 characters.") == 2
    assert "arn:aws:sqs:us-east-1:123456789012:a-queue" in response.text  # what was typed stays
    assert not (await feedback_sources.load(db)).configured("ses")

    no_password = admin.post("/settings/feedback-sources", data={"postmark_user": "hook"})
    assert no_password.status_code == 422 and "Enter the password Postmark will send" in no_password.text


async def test_editors_and_viewers_never_see_the_page(staff, db):
    for role in ("editor", "viewer"):
        client = await staff(role)
        assert client.get("/settings/feedback-sources").status_code == 403
        assert client.post("/settings/feedback-sources", data=FORM).status_code == 403
        assert "/settings/feedback-sources" not in client.get("/").text
    assert not (await feedback_sources.load(db)).configured("generic")
