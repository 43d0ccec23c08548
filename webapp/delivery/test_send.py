"""Test emails: a template (or campaign content) rendered for one contact and sent to a few
addresses through the worker's mailer, with "[Test] " before the subject and no tracking."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

import css_inline

from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.validation import normalize_email
from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.mailer import Mailer, PermanentFailure, TransientFailure
from webapp.delivery.smtp_config import fresh_mailer
from webapp.templates.service.rendering import CompiledMessage, RenderedMessage, RenderError, contact_context
from webapp.templates.service.templates import PLACEHOLDER_LINKS

MAX_RECIPIENTS = 10
SHOWN_ADDRESS_LENGTH = 100  # of an address that is not one, quoted back in the message
SUBJECT_PREFIX = "[Test] "
NO_SERVER = "Configure an SMTP server under Settings → SMTP servers before sending a test."


def parse_recipients(raw: str | Sequence[str]) -> list[str]:
    """Up to ten addresses, comma separated (or a list); ValidationFailed on "recipients" otherwise."""
    items = re.split(r"[,;\s]+", raw) if isinstance(raw, str) else list(raw)
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            email = normalize_email(item)
        except ValueError as exc:
            raise ValidationFailed({"recipients": f"{item.strip()[:SHOWN_ADDRESS_LENGTH]}: {exc}"}) from None
        found.setdefault(email.lower(), email)
    if not found:
        raise ValidationFailed({"recipients": "Enter at least one address to send the test to."})
    if len(found) > MAX_RECIPIENTS:
        raise ValidationFailed({"recipients": f"Send a test to at most {MAX_RECIPIENTS} addresses at a time."})
    return list(found.values())


async def send_test(
    subject: str,
    html: str,
    text: str,
    from_name: str,
    from_email: str,
    recipients: str | Sequence[str],
    contact: Any,
) -> list[str]:
    """Send one test per recipient; returns their Message-IDs. Raises ValidationFailed for bad
    addresses or a broken template, Conflict when there is no server or it refused the message."""
    addresses = parse_recipients(recipients)
    if not from_email:
        raise ValidationFailed({"from_email": "Set a default from address under Settings first."})
    try:
        rendered = CompiledMessage(subject, html, text).render(contact_context(contact, PLACEHOLDER_LINKS))
    except RenderError as exc:
        raise ValidationFailed({"html_content": exc.message}) from None
    except css_inline.InlineError as exc:
        raise ValidationFailed({"html_content": f"The CSS could not be inlined: {exc}"}) from None
    mailer = await fresh_mailer()
    try:
        return await _send_all(mailer, addresses, from_name, from_email, rendered)
    finally:
        await mailer.close()


async def _send_all(
    mailer: Mailer, addresses: list[str], from_name: str, from_email: str, rendered: RenderedMessage
) -> list[str]:
    if not mailer.pools:
        raise Conflict(NO_SERVER, "recipients")
    domain = from_email.rpartition("@")[2] or "localhost"
    message_ids: list[str] = []
    for address in addresses:
        message_id = f"<test.{secrets.token_hex(12)}@{domain}>"
        envelope = Envelope(
            from_name=from_name,
            from_email=from_email,
            to_email=address,
            subject=SUBJECT_PREFIX + rendered.subject,
            message_id=message_id,
        )
        try:
            await mailer.send(from_email, address, build_message(envelope, rendered.html, rendered.text))
        except (TransientFailure, PermanentFailure) as exc:
            sent = f" (sent to {', '.join(addresses[: len(message_ids)])})" if message_ids else ""
            raise Conflict(f"The mail server did not take the test for {address}: {exc}{sent}", "recipients") from None
        message_ids.append(message_id)
    return message_ids
