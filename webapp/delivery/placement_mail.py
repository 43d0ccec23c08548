"""Copies of a campaign for an inbox placement test: the real message as a recipient gets it (no
"[Test]" prefix, footer, List-Unsubscribe, tracking, DKIM, the bounce address as return path),
rendered for the sample contact, one per seed, through the normal Mailer. Each copy's Message-ID
holds its token, which is how the seed mailbox's copy is found again (providers keep the
Message-ID; they may drop headers of our own).

Links name TEST_DELIVERY_ID, as a test send's do: they work, and nothing is recorded for them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.bounces.service.mailbox import bounce_address
from webapp.campaigns.models import Campaign
from webapp.core.config import get_settings
from webapp.core.tokens import TEST_DELIVERY_ID
from webapp.delivery.campaign_message import prepare
from webapp.delivery.mailer import PermanentFailure, TransientFailure
from webapp.delivery.smtp_config import fresh_mailer
from webapp.delivery.test_send import NO_SERVER
from webapp.delivery.transports.base import Route
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError
from webapp.templates.service.templates import SAMPLE_CONTACT


@dataclass(frozen=True)
class Copy:
    token: str
    to_email: str


def message_id(token: str, from_email: str) -> str:
    return f"<placement.{token}@{from_email.rpartition('@')[2] or 'localhost'}>"


async def send_copies(session: AsyncSession, campaign: Campaign, copies: list[Copy]) -> dict[str, str]:
    """Send each copy, routed as the campaign's own messages are; returns why a copy was not sent,
    by token (empty: all went out)."""
    org = await org_settings.load(session)
    prepared = await prepare(session, campaign, org, get_settings().server.public_url, await bounce_address(session))
    (content,) = await prepared.render_contents([(TEST_DELIVERY_ID, SAMPLE_CONTACT)])
    if isinstance(content, RenderError):
        return {copy.token: f"The campaign could not be rendered: {content.message}" for copy in copies}
    mailer = await fresh_mailer()
    failed = {}
    try:
        if not mailer.transports:
            return {copy.token: NO_SERVER for copy in copies}
        for copy in copies:
            made = prepared.message(
                TEST_DELIVERY_ID, message_id(copy.token, prepared.from_email), copy.to_email, content
            )
            try:
                route = Route.to(copy.to_email, campaign.kind, campaign.id)
                await mailer.send(prepared.return_path(TEST_DELIVERY_ID), copy.to_email, made, route=route)
            except (TransientFailure, PermanentFailure) as exc:
                failed[copy.token] = f"The mail server did not take the copy: {exc}"
    finally:
        await mailer.close()
    return failed
