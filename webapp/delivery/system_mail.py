"""Mail Mailroom sends on its own behalf, one message at a time (a subscriber's confirmation, a staff
member's password reset): from the organisation's default sender (no-reply@ this host without one),
marked auto-generated, DKIM-signed when the organisation signs, sent through the transactional route."""

from __future__ import annotations

import secrets

from webapp.campaigns.models import CampaignKind
from webapp.core.config import get_settings
from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.dkim import make_signer
from webapp.delivery.smtp_config import get_mailer
from webapp.delivery.transports.base import Route
from webapp.settings.service.organisation import OrgSettings


def sender(org: OrgSettings, base_url: str) -> tuple[str, str]:
    """From name and address: the organisation's defaults; without an address, no-reply@ this host."""
    host = base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    return org.default_from_name or org.organisation_name, org.default_from_email or f"no-reply@{host}"


def compose(org: OrgSettings, to_email: str, subject: str, html: str, text: str, kind: str) -> tuple[str, bytes]:
    """The sender's address and the message's bytes; `kind` names it in its Message-ID."""
    from_name, from_email = sender(org, get_settings().server.public_url)
    envelope = Envelope(
        from_name=from_name,
        from_email=from_email,
        to_email=to_email,
        subject=subject,
        message_id=f"<{kind}.{secrets.token_hex(12)}@{from_email.rpartition('@')[2]}>",
        extra_headers=(("Auto-Submitted", "auto-generated"),),
    )
    message = build_message(envelope, html, text)
    if org.dkim_enabled:
        message = make_signer(org.dkim_domain, org.dkim_selector, org.dkim_private_key)(message)
    return from_email, message


async def send(from_email: str, to_email: str, message: bytes) -> None:
    """PermanentFailure when the server refuses it; other errors are worth a retry."""
    await (await get_mailer()).send(
        from_email, to_email, message, route=Route.to(to_email, CampaignKind.TRANSACTIONAL.value)
    )
