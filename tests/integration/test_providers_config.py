"""Providers as admins configure them: secrets kept when left blank and never reused for another
kind, each kind's own checks, and a provider added while a campaign sends taking its messages
from then on (the workers rebuild their mailer when providers change, as for SMTP servers)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.test_automation_mail import until
from tests.support.campaigns import audience, ready_campaign, smtp_server, wait_for_status
from tests.support.esp_apis import add_provider, esp_api
from tests.support.smtp import SmtpSink
from webapp.campaigns.service import campaigns
from webapp.core.errors import ValidationFailed
from webapp.providers import service as providers

FORM = {
    "name": "SES",
    "kind": "ses",
    "batch_size": 1,
    "rate_per_second": 0,
    "rate_per_hour": 0,
    "rate_per_day": 0,
    "max_connections": 4,
    "priority": 0,
    "region": "eu-west-1",
    "access_key_id": "AKID",
    "secret_access_key": "secret",
}


async def test_a_blank_secret_keeps_the_saved_one_but_another_kind_needs_its_own(db) -> None:
    provider = await providers.create_provider(db, FORM)
    await providers.update_provider(db, provider.id, FORM | {"secret_access_key": "", "name": "SES EU"})
    assert providers.credentials(provider) == {"access_key_id": "AKID", "secret_access_key": "secret"}
    assert provider.name == "SES EU"
    assert provider.credentials_encrypted is not None and b"secret" not in provider.credentials_encrypted

    with pytest.raises(ValidationFailed) as refused:
        await providers.update_provider(db, provider.id, FORM | {"kind": "sendgrid"})
    assert set(refused.value.errors) == {"api_key"}


async def test_each_kind_checks_its_own_settings(db) -> None:
    with pytest.raises(ValidationFailed) as ses:
        await providers.create_provider(db, FORM | {"region": "Europe"})
    mailgun = FORM | {"kind": "mailgun", "region": "asia", "api_key": "key"}
    with pytest.raises(ValidationFailed) as mailgun_refused:
        await providers.create_provider(db, mailgun)
    assert set(ses.value.errors) == {"region"}
    assert set(mailgun_refused.value.errors) == {"domain", "region"}
    # the form's own mistakes and the kind's come back together, not one round after the other
    everything = FORM | {
        "name": "",
        "batch_size": "lots",
        "region": "Europe",
        "access_key_id": "",
        "secret_access_key": "",
    }
    with pytest.raises(ValidationFailed) as all_at_once:
        await providers.create_provider(db, everything)
    assert set(all_at_once.value.errors) == {"name", "batch_size", "region", "access_key_id", "secret_access_key"}


async def test_a_provider_added_during_a_send_takes_the_messages_after_it(db, worker) -> None:
    size = 200
    with SmtpSink() as sink, esp_api("postmark") as api:
        server = await smtp_server(db, sink.port, priority=1)
        server.rate_per_second = 20
        email_list = await audience(db, size)
        campaign = await ready_campaign(db, [email_list.id])
        await campaigns.send_now(db, campaign.id)
        await db.commit()
        worker()

        async def sending() -> bool:
            return len(sink.messages) >= 20

        await until(sending, what="the campaign sending through the SMTP server")
        await add_provider(db, api, priority=0)
        await wait_for_status(db, campaign.id, {"sent"}, timeout=120)

    received = Counter(sink.handler.recipients() + api.recipients())
    assert set(received) == {f"person{i}@example.com" for i in range(size)} and max(received.values()) == 1
    assert len(api.taken) > size / 2, "the provider took over once it was added"


@pytest.mark.parametrize("port", ["0", "65536", "99999", "080"])
async def test_an_api_address_with_a_port_no_connection_can_use_is_refused_naming_the_field(db, port) -> None:
    sendgrid = FORM | {
        "kind": "sendgrid",
        "api_key": "key",
        "base_url": f"http://127.0.0.1:{port}",
        "allow_private": True,
    }
    with pytest.raises(ValidationFailed) as refused:
        await providers.create_provider(db, sendgrid)
    assert set(refused.value.errors) == {"base_url"}
    ok = await providers.create_provider(db, sendgrid | {"base_url": "http://127.0.0.1:65535/"})
    assert ok.settings["base_url"] == "http://127.0.0.1:65535"


async def test_a_provider_may_not_take_another_transports_name(db) -> None:
    await smtp_server(db, 2525, name="Test sink")
    first = await providers.create_provider(db, FORM)
    with pytest.raises(ValidationFailed) as of_a_server:
        await providers.create_provider(db, FORM | {"name": "test SINK"})
    with pytest.raises(ValidationFailed) as of_a_provider:
        await providers.create_provider(db, FORM | {"name": "ses"})
    assert list(of_a_server.value.errors) == ["name"] and "SMTP server #" in of_a_server.value.errors["name"]
    assert of_a_provider.value.errors == {"name": f"The provider #{first.id} has this name already: choose another."}
    assert (
        await providers.update_provider(db, first.id, FORM | {"name": "SES", "secret_access_key": ""})
    ).name == "SES"
