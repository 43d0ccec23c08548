"""A provider's "API address" (the override of the service's own) reaches no private address
unless its "Allow a private address" is ticked: refused when saved, naming why, and refused again
when a message is sent or the Test button is pressed, with no request made and the refusal as the
provider's error. Allowed, requests go to the address that was checked, with the typed host in
the Host header (SES's signature over it still valid) and in TLS (the certificate is checked for it).

The fake APIs run on 127.0.0.1; the named host used here is localhost (from /etc/hosts), so no test
asks a DNS server on the internet."""

from __future__ import annotations

import socket

import pytest

from tests.integration.test_provider_apis import KINDS, send
from tests.integration.test_providers_config import FORM
from tests.support.esp_apis import add_provider, esp_api
from webapp.core.errors import ValidationFailed
from webapp.delivery import smtp_config
from webapp.delivery.mailer import Unreachable
from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.kinds import check
from webapp.providers import service as providers
from webapp.providers.models import Provider

WHAT_TO_DO = "“Allow a private address”"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9000", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.5", "10.0.0.5 is a private address"),
        ("http://169.254.169.254", "169.254.169.254 is a link-local address"),  # cloud metadata
        ("http://localhost:8080", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]:8080/", "::1 is a loopback address"),  # IPv6, and a slash at the end as pasted
        ("http://[::ffff:127.0.0.1]", "127.0.0.1"),
        ("http://[fd00::1]", "fd00::1 is a private address"),
    ],
)
async def test_a_private_api_address_is_refused_when_saved_naming_why(db, url, reason) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await providers.create_provider(db, FORM | {"base_url": url})

    assert set(refused.value.errors) == {"base_url"}
    assert reason in refused.value.errors["base_url"] and WHAT_TO_DO in refused.value.errors["base_url"]


async def test_a_private_api_address_is_saved_only_while_allowed(db) -> None:
    provider = await providers.create_provider(db, FORM | {"base_url": "http://10.0.0.5", "allow_private": True})
    assert provider.settings == {"region": "eu-west-1", "base_url": "http://10.0.0.5", "allow_private": True}

    with pytest.raises(ValidationFailed) as refused:
        await providers.update_provider(db, provider.id, FORM | {"base_url": "http://10.0.0.5"})
    assert "10.0.0.5 is a private address" in refused.value.errors["base_url"]

    public = await providers.update_provider(db, provider.id, FORM | {"base_url": "https://93.184.215.14/"})
    assert public.settings == {"region": "eu-west-1", "base_url": "https://93.184.215.14"}  # the pasted slash dropped

    with pytest.raises(ValidationFailed) as in_clear:  # the API key would cross the internet unencrypted
        await providers.update_provider(db, provider.id, FORM | {"base_url": "http://93.184.215.14"})
    assert in_clear.value.errors["base_url"].startswith("Use https://: over http:// the API key would cross")
    with pytest.raises(ValidationFailed) as ticked:  # "Allow a private address" does not make a public one so
        await providers.update_provider(
            db, provider.id, FORM | {"base_url": "http://93.184.215.14", "allow_private": True}
        )
    assert ticked.value.errors["base_url"].startswith("Use https://")


async def forbid_private(db, provider: Provider) -> None:
    """The switch off behind the form's back: a provider saved before the rule, or a host that
    resolved to a public address when saved."""
    provider.settings = {name: value for name, value in provider.settings.items() if name != "allow_private"}
    await db.commit()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_private_api_address_is_refused_when_sending_with_no_request_made(db, kind) -> None:
    with esp_api(kind) as api:
        provider = await add_provider(db, api)
        await forbid_private(db, provider)
        mailer = await smtp_config.fresh_mailer()
        with pytest.raises(Unreachable) as unreachable:
            await send("ann@example.com", mailer)
        errors = mailer.take_errors()
        await mailer.close()

    assert api.hosts == [], "no request reached the private address"
    assert "127.0.0.1 is a loopback address" in str(unreachable.value)
    (error,) = errors.values()
    assert "127.0.0.1 is a loopback address" in error and WHAT_TO_DO in error, "the provider's error for admins"


async def test_the_test_button_refuses_a_private_api_address_with_no_request_made(db) -> None:
    with esp_api("postmark") as api:
        provider = await add_provider(db, api)
        await forbid_private(db, provider)
        with pytest.raises(ServerDown) as refused:
            await check(smtp_config.provider_target(provider))

    assert "127.0.0.1 is a loopback address" in str(refused.value) and api.hosts == []


@pytest.mark.parametrize("kind", KINDS)
async def test_an_allowed_named_api_address_is_called_at_the_address_checked(db, kind) -> None:
    with esp_api(kind) as api:
        named = api.url.replace("127.0.0.1", "localhost")
        provider = await add_provider(db, api, base_url=named)
        said = await check(smtp_config.provider_target(provider))
        await send("ann@example.com")

    assert said.startswith("Signed in to")
    assert api.recipients() == ["ann@example.com"]
    assert set(api.hosts) == {named.removeprefix("http://")}


async def test_over_tls_the_certificate_is_checked_for_the_typed_host_not_the_address(db, monkeypatch) -> None:
    with esp_api("postmark", tls_for="localhost") as api:
        monkeypatch.setenv("SSL_CERT_FILE", api.ca_file)  # trust the API's self-signed certificate
        named = api.url.replace("127.0.0.1", "localhost")
        provider = await add_provider(db, api, base_url=named)
        said = await check(smtp_config.provider_target(provider))
        by_address = await add_provider(db, api, name="by address")  # the certificate names localhost only
        with pytest.raises(ServerDown) as refused:
            await check(smtp_config.provider_target(by_address))

    assert said.startswith("Signed in to Postmark")
    assert str(refused.value).startswith("The TLS certificate of 127.0.0.1 is not valid: IP address mismatch")
    assert not str(refused.value).endswith("..")
    assert api.hosts == [named.removeprefix("https://")]


async def test_a_named_api_address_is_looked_up_once_a_minute_not_per_request(db, monkeypatch) -> None:
    """SES takes one message a request: a lookup each would be as many DNS queries as messages."""
    lookups: list[str] = []
    resolve = socket.getaddrinfo

    def counted(host, *args, **kwargs):  # the real resolver, counted
        lookups.append(host)
        return resolve(host, *args, **kwargs)

    with esp_api("ses") as api:
        provider = await add_provider(db, api, base_url=api.url.replace("127.0.0.1", "localhost"))
        monkeypatch.setattr(socket, "getaddrinfo", counted)
        mailer = await smtp_config.fresh_mailer()
        for n in range(5):
            await send(f"person{n}@example.com", mailer)
        await mailer.close()

    assert len(api.recipients()) == 5 and provider.settings["allow_private"]
    assert lookups.count("localhost") == 1
