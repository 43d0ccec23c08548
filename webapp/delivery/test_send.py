"""Test emails: the real message, made as a campaign's is (footer with the postal address,
List-Unsubscribe, List-Id, tracked links and pixel, DKIM), rendered for one contact and sent to a
few addresses with "[Test] " before the subject, so a spam check of a test speaks for the campaign.

Its links carry TEST_DELIVERY_ID instead of a delivery: they land on the real pages (the link's
destination, the unsubscribe page) and the tracking endpoints record nothing for them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignKind
from webapp.contacts import service as contacts
from webapp.core.config import get_settings
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.tokens import TEST_DELIVERY_ID
from webapp.core.validation import normalize_email
from webapp.delivery.campaign_message import MessageSource, prepare
from webapp.delivery.mailer import Mailer, PermanentFailure, TransientFailure
from webapp.delivery.pipeline import message_id_domain
from webapp.delivery.smtp_config import fresh_mailer
from webapp.delivery.transports.base import Route
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError

MAX_RECIPIENTS = 10
SHOWN_ADDRESS_LENGTH = 100  # of an address that is not one, quoted back in the message
SUBJECT_PREFIX = "[Test] "
NO_SERVER = "Configure an SMTP server or a provider under Settings before sending a test."


@dataclass(frozen=True)
class TemplateTest:
    """A template being tested, as a message source. Its links are not tracked: click tracking
    stores each link for a campaign, and a template has none yet."""

    subject: str
    html_content: str
    text_content: str
    from_name: str
    from_email: str
    id: int = 0
    reply_to: str = ""
    settings: dict[str, Any] = field(default_factory=lambda: {"track_clicks": False})


def _shown(typed: str) -> str:
    """What was typed, with characters that print as nothing (a NUL, a control) written as escapes."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in typed)


def parse_recipients(raw: str | Sequence[str]) -> list[str]:
    """Up to ten addresses, comma separated (or a list); ValidationFailed on "recipients" otherwise."""
    items = re.split(r"[,;\s]+", raw) if isinstance(raw, str) else list(raw)
    found: dict[str, str] = {}
    problems: list[str] = []  # every one at once, so one correction does
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            email = normalize_email(item)
        except ValueError as exc:
            problems.append(f"{_shown(item.strip()[:SHOWN_ADDRESS_LENGTH])}: {exc}")
            continue
        found.setdefault(email.lower(), email)
    if len(found) + len(problems) > MAX_RECIPIENTS:
        problems.append(f"Send a test to at most {MAX_RECIPIENTS} addresses at a time.")
    if not found and not problems:
        problems.append("Enter at least one address to send the test to.")
    if problems:
        raise ValidationFailed({"recipients": " ".join(problems)})
    return list(found.values())


async def send_test(
    session: AsyncSession, source: MessageSource, recipients: str | Sequence[str], contact: Any
) -> list[str]:
    """Send one test per recipient; returns their Message-IDs. Raises ValidationFailed for bad
    addresses or a broken template, Conflict when there is no server or it refused the message."""
    addresses = parse_recipients(recipients)
    for address in addresses:  # an opt-out holds for every kind of mail, tests too
        if (why := await contacts.no_mail_reason(session, address)) is not None:
            raise ValidationFailed({"recipients": f"{address} gets no mail: {why}. Send the test to another address."})
    org = await org_settings.load(session)
    if not (source.from_email or org.default_from_email):
        raise ValidationFailed({"from_email": "Set a default from address under Settings first."})
    prepared = await prepare(session, source, org, get_settings().server.public_url)
    (content,) = await prepared.render_contents([(TEST_DELIVERY_ID, contact)])
    if isinstance(content, RenderError):
        raise ValidationFailed({content.field or "html_content": content.message})  # the part that failed
    domain = message_id_domain()  # as the campaign's own messages have it
    made: list[tuple[str, str, bytes]] = []  # every message is made before the first goes out
    for address in addresses:
        message_id = f"<test.{secrets.token_hex(12)}@{domain}>"
        made.append(
            (address, message_id, prepared.message(TEST_DELIVERY_ID, message_id, address, content, SUBJECT_PREFIX))
        )
    # routed as the campaign's own messages would be; a template's test as marketing mail
    campaign = source if isinstance(source, Campaign) else None
    kind = campaign.kind if campaign else CampaignKind.MARKETING.value
    mailer = await fresh_mailer()
    try:
        return await _send_all(mailer, prepared.from_email, made, kind, campaign.id if campaign else None)
    finally:
        await mailer.close()


async def _send_all(
    mailer: Mailer, from_email: str, made: list[tuple[str, str, bytes]], kind: str, campaign_id: int | None
) -> list[str]:
    if not mailer.transports:
        raise Conflict(NO_SERVER, "recipients")
    message_ids: list[str] = []
    for address, message_id, message in made:
        try:
            await mailer.send(from_email, address, message, route=Route.to(address, kind, campaign_id))
        except (TransientFailure, PermanentFailure) as exc:
            done = [a for a, _, _ in made[: len(message_ids)]]
            sent = f" (sent to {', '.join(done)})" if done else ""
            raise Conflict(f"The mail server did not take the test for {address}: {exc}{sent}", "recipients") from None
        message_ids.append(message_id)
    return message_ids
