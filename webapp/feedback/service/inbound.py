"""Receiving a provider's webhook: the source must be configured (else 404, so nothing is accepted
by default), the request authentic (providers/), and then its reports are recorded in the caller's
transaction. Every refusal is a providers.Refused carrying its status; nothing a sender can post
raises anything else."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.redis import get_redis
from webapp.feedback.schemas import FeedbackEvent
from webapp.feedback.service import sns_certificates
from webapp.feedback.service.providers import Refused, generic, mailgun, postmark, sendgrid, ses, sns, storable
from webapp.feedback.service.recording import Recorded, record
from webapp.settings.service import feedback_sources
from webapp.settings.service.feedback_sources import FeedbackSources

log = logging.getLogger("mailroom.feedback")

MAILGUN_TOKEN_PREFIX = "mailroom:mailgun-token:"


async def _sources(session: AsyncSession, provider: str) -> FeedbackSources:
    sources = await feedback_sources.load(session)
    if not sources.configured(provider):
        raise Refused(404, "This feedback source is not configured.")
    return sources


async def _record(session: AsyncSession, events: list[FeedbackEvent]) -> Recorded:
    usable = [storable(e) for e in events if "@" in e.email]
    if len(usable) < len(events):
        log.info("%d provider reports without a recipient address dropped", len(events) - len(usable))
    return await record(session, usable)


async def amazon_ses(session: AsyncSession, body: bytes, transport: httpx.AsyncBaseTransport | None = None) -> Recorded:
    """`transport` is for tests: the certificate fetch and the confirmation are the only requests
    this app makes to a provider."""
    sources = await _sources(session, "ses")
    message = sns.envelope(body)
    sns.check_topic(message, sources.ses_topics)
    url = sns.certificate_url(message)
    async with sns_certificates.client(transport) as http:
        sns.verify(message, await sns_certificates.certificate(get_redis(), http, url), datetime.now(UTC))
        if message["Type"] == "SubscriptionConfirmation":
            await sns_certificates.confirm(http, sns.subscribe_url(message))
            log.info("SNS subscription to %s confirmed", message["TopicArn"])
            return Recorded()
    if message["Type"] == "UnsubscribeConfirmation":
        log.warning("SNS topic %s unsubscribed this endpoint", message["TopicArn"])
        return Recorded()
    return await _record(session, ses.events(str(message.get("MessageId")), str(message.get("Message"))))


async def sendgrid_events(session: AsyncSession, body: bytes, headers: Mapping[str, str]) -> Recorded:
    sources = await _sources(session, "sendgrid")
    try:
        key = sendgrid.public_key(sources.sendgrid_key)
    except ValueError:  # saved before it was checked; the settings page asks for a new one
        raise Refused(404, "The SendGrid verification key in the settings is not valid.") from None
    signature, timestamp = headers.get(sendgrid.SIGNATURE_HEADER, ""), headers.get(sendgrid.TIMESTAMP_HEADER, "")
    sendgrid.verify(key, signature, timestamp, body)
    return await _record(session, sendgrid.events(body))


async def postmark_record(session: AsyncSession, body: bytes, authorization: str) -> Recorded:
    sources = await _sources(session, "postmark")
    postmark.check_auth(authorization, sources.postmark_user, sources.postmark_password)
    return await _record(session, postmark.events(body))


async def mailgun_event(session: AsyncSession, body: bytes) -> Recorded:
    sources = await _sources(session, "mailgun")
    data = mailgun.payload(body)
    token = mailgun.verify(sources.mailgun_key, data, time.time())
    # Each token once: kept past the replay window, after which the timestamp refuses it anyway.
    if not await get_redis().set(MAILGUN_TOKEN_PREFIX + token, 1, nx=True, ex=2 * mailgun.REPLAY_WINDOW_SECONDS):
        raise Refused(401, "This Mailgun signature was used already.")
    return await _record(session, mailgun.events(data))


async def generic_events(session: AsyncSession, body: bytes, headers: Mapping[str, str]) -> Recorded:
    sources = await _sources(session, "generic")
    signature, timestamp = headers.get(generic.SIGNATURE_HEADER, ""), headers.get(generic.TIMESTAMP_HEADER, "")
    generic.verify(sources.generic_secret, signature, timestamp, body, time.time())
    return await _record(session, generic.events(body))
