"""The two requests the Amazon SES webhook makes to Amazon (the signing certificate, the subscription
confirmation), against an httpx MockTransport standing in for sns.<region>.amazonaws.com: the only
outside edge faked here. Redis and PostgreSQL are real."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support import esp
from webapp.core.redis import get_redis
from webapp.feedback.service import inbound, sns_certificates
from webapp.feedback.service.providers import Refused
from webapp.settings.service import feedback_sources
from webapp.settings.service.feedback_sources import FeedbackSources


class FakeSns:
    """Answers like SNS: the certificate at CERT_URL, 200 to a confirmation; records each request."""

    def __init__(self, certificate: bytes | None = None, status: int = 200) -> None:
        self.requests: list[str] = []
        self.certificate = esp.sns_pem() if certificate is None else certificate
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if request.url.path.endswith(".pem"):
            return httpx.Response(self.status, content=self.certificate)
        return httpx.Response(self.status, text="<ConfirmSubscriptionResponse/>")


async def fetch(fake, url: str = esp.CERT_URL):
    async with sns_certificates.client(httpx.MockTransport(fake)) as http:
        return await sns_certificates.certificate(get_redis(), http, url)


async def test_a_certificate_is_fetched_once_and_then_read_from_redis(db):
    fake = FakeSns()
    first = await fetch(fake)
    again = await fetch(fake)
    assert first == again == esp.sns_certificate()
    assert fake.requests == [esp.CERT_URL]
    assert await get_redis().ttl(sns_certificates.redis_key(esp.CERT_URL)) > 3600


@pytest.mark.parametrize(
    ("fake", "status"),
    [
        (FakeSns(status=404), 401),
        (FakeSns(status=302), 401),  # redirects are not followed
        (FakeSns(certificate=b"not a certificate"), 401),
        (FakeSns(certificate=b"-" * (sns_certificates.MAX_CERTIFICATE_BYTES + 1)), 401),
    ],
)
async def test_a_certificate_that_cannot_be_had_is_a_refusal_and_is_not_cached(db, fake, status):
    with pytest.raises(Refused) as caught:
        await fetch(fake)
    assert caught.value.status == status
    assert await get_redis().get(sns_certificates.redis_key(esp.CERT_URL)) is None


async def test_sns_out_of_reach_is_a_503_so_sns_retries(db):
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    with pytest.raises(Refused) as caught:
        await fetch(unreachable)
    assert caught.value.status == 503


async def configure(db, topics: tuple[str, ...] = (esp.TOPIC,)) -> None:
    await feedback_sources.save(db, FeedbackSources(ses_topics=topics))
    await db.commit()


async def test_a_subscription_to_an_allowlisted_topic_is_confirmed_at_its_subscribe_url(db):
    await configure(db)
    fake = FakeSns()
    message = esp.sns_message("You have chosen to subscribe", type="SubscriptionConfirmation")
    await inbound.amazon_ses(db, json.dumps(message).encode(), httpx.MockTransport(fake))
    assert fake.requests == [esp.CERT_URL, message["SubscribeURL"]]


async def test_a_subscription_is_not_confirmed_for_another_topic_nor_off_sns_nor_unsigned(db):
    await configure(db)
    fake = FakeSns()
    other_topic = esp.sns_message("Confirm", type="SubscriptionConfirmation", topic=esp.TOPIC + "-other")
    off_sns = esp.sns_message("Confirm", type="SubscriptionConfirmation")
    off_sns["SubscribeURL"] = "https://evil.example/?Action=ConfirmSubscription"  # and so not signed either
    resigned = esp.sns_message("Confirm", type="SubscriptionConfirmation") | {"Token": "another"}
    for message, status in ((other_topic, 403), (off_sns, 401), (resigned, 401)):
        with pytest.raises(Refused) as caught:
            await inbound.amazon_ses(db, json.dumps(message).encode(), httpx.MockTransport(fake))
        assert caught.value.status == status
    assert not [url for url in fake.requests if not url.endswith(".pem")]


async def test_a_subscribe_url_off_sns_is_refused_even_when_signed(db):
    """SNS signs the SubscribeURL, but the URL must still be SNS's own: the signing key's owner is not
    trusted to send this app anywhere else."""
    await configure(db)
    fake = FakeSns()
    message = esp.sns_message("Confirm", type="SubscriptionConfirmation")
    signed = esp.sns_signed({**message, "SubscribeURL": "https://evil.example/confirm"})
    with pytest.raises(Refused) as caught:
        await inbound.amazon_ses(db, json.dumps(signed).encode(), httpx.MockTransport(fake))
    assert caught.value.status == 403
    assert fake.requests == [esp.CERT_URL]


async def test_a_confirmation_sns_refuses_is_reported(db):
    await configure(db)
    message = esp.sns_message("Confirm", type="SubscriptionConfirmation")
    await get_redis().set(sns_certificates.redis_key(esp.CERT_URL), esp.sns_pem())
    with pytest.raises(Refused) as caught:
        await inbound.amazon_ses(db, json.dumps(message).encode(), httpx.MockTransport(FakeSns(status=400)))
    assert caught.value.status == 502


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.7"])
async def test_the_app_itself_fetches_and_confirms_only_at_public_addresses(db, address):
    """Without a stand-in, the requests go through the SSRF rule: a private address is refused
    before any connection (nothing listens at port 9 on any of them)."""
    async with sns_certificates.client() as http:
        with pytest.raises(Refused) as fetched:
            await sns_certificates.certificate(
                get_redis(), http, f"https://{address}:9/SimpleNotificationService-1.pem"
            )
        with pytest.raises(Refused) as confirmed:
            await sns_certificates.confirm(http, f"https://{address}:9/?Action=ConfirmSubscription")
    assert fetched.value.status == confirmed.value.status == 403
    assert "Amazon SNS is never on a private network." in fetched.value.reason
    assert confirmed.value.reason.startswith("The subscription was not confirmed:")
    assert (
        await get_redis().get(sns_certificates.redis_key(f"https://{address}:9/SimpleNotificationService-1.pem"))
        is None
    )
