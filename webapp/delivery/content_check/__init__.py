"""The pre-send content check: the campaign's real message, made and rendered as a recipient gets
it (footer, List-Unsubscribe, tracked links and pixel, DKIM signature, return path), for the
sample contact, scored by SpamAssassin through spamd when one is configured and always by
Mailroom's own checks (the message: message.py; the From domain's DNS records: dns_records.py).

Nothing here stalls the web server's event loop: the HTML is examined in a process of its own under
CPU and memory limits, spamd and DNS are asked concurrently over async sockets, each with its own
time limit; whatever did not answer in time is named in the report's `unchecked`."""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.bounces.service import mailbox as bounce_mailbox
from webapp.core import isolation
from webapp.core.config import ContentCheckSettings, get_settings
from webapp.core.errors import ValidationFailed
from webapp.core.isolation import Failed, Limits
from webapp.core.tokens import TEST_DELIVERY_ID
from webapp.delivery.campaign_message import TRACKED_LINKS, MessageSource, PreparedCampaign, prepare, tracked_urls
from webapp.delivery.content_check import dns_records, message, spamassassin
from webapp.delivery.content_check.findings import Finding, Report
from webapp.delivery.queries import register_links
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError
from webapp.templates.service.templates import SAMPLE_CONTACT

__all__ = ["Finding", "Report", "run"]

EXAMINE_LIMITS = Limits(cpu_seconds=5.0, memory_mb=256)
NOT_EXAMINED = "The message itself could not be examined ({reason}): its size, images and links were not checked."
isolation.preload(message.__name__)
_examiners = isolation.Pool(EXAMINE_LIMITS, 1)


async def run(session: AsyncSession, source: MessageSource, config: ContentCheckSettings | None = None) -> Report:
    """Check the message `source` makes. ValidationFailed when its template does not render."""
    config = config or get_settings().content_check
    org = await org_settings.load(session)
    prepared = await prepare(
        session, source, org, get_settings().server.public_url, await bounce_mailbox.bounce_address(session)
    )
    (content,) = await prepared.render_contents([(TEST_DELIVERY_ID, SAMPLE_CONTACT)])
    if isinstance(content, RenderError):
        raise ValidationFailed({content.field or "html_content": content.message})
    domain = prepared.from_email.rpartition("@")[2] or "localhost"
    return_path = prepared.return_path(TEST_DELIVERY_ID)
    made = prepared.message(
        TEST_DELIVERY_ID, f"<check.{secrets.token_hex(12)}@{domain}>", SAMPLE_CONTACT.email, content
    )
    received = f"Return-Path: <{return_path}>\r\n".encode() + made  # as the receiving server stores it
    sender = dns_records.Sender(
        from_domain=domain,
        return_path_domain=return_path.rpartition("@")[2],
        dkim_domain=org.dkim_domain if org.dkim_enabled else "",
        dkim_selector=org.dkim_selector,
        dkim_record=org.dkim_dns_record if org.dkim_enabled else "",
    )
    destinations = await _destinations(session, source, prepared)
    (
        (own, examine_unchecked),
        (dns_findings, dns_unchecked),
        (sa_score, sa_findings, sa_unchecked),
    ) = await asyncio.gather(
        _examine(received, destinations),
        dns_records.examine(sender, config.dns_server, config.dns_timeout),
        spamassassin.examine(received, config.spamd, config.spamd_timeout) if config.spamd else _no_spamd(),
    )
    return Report(
        findings=[*own, *dns_findings, *sa_findings],
        spamassassin_score=sa_score,
        unchecked=[*examine_unchecked, *dns_unchecked, *sa_unchecked],
    )


async def _destinations(session: AsyncSession, source: MessageSource, prepared: PreparedCampaign) -> dict[str, str]:
    """Each click-tracking URL in the message -> the link it leads to."""
    if not prepared.link_ids:
        return {}
    urls = tracked_urls(source.html_content)
    link_ids = await register_links(session, source.id, urls)  # the ids prepare() registered them under
    tracking = prepared.links_for(TEST_DELIVERY_ID)[TRACKED_LINKS]
    return {tracking[link_ids[url]]: url for url in urls if link_ids.get(url) in tracking}


async def _examine(raw: bytes, destinations: dict[str, str]) -> tuple[list[Finding], list[str]]:
    (result,) = await _examiners.amap(_examine_in_child, [(raw, destinations)])
    if isinstance(result, Failed):
        return [], [NOT_EXAMINED.format(reason=result.message or result.kind.value)]
    return result, []


def _examine_in_child(_: object, item: tuple[bytes, dict[str, str]]) -> list[Finding]:
    return message.examine(*item)


async def _no_spamd() -> tuple[float | None, list[Finding], list[str]]:
    return None, [], []
