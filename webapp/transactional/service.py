"""Transactional messages: one message from a transactional template to one address, with the
data its personalisation reads, queued for the transactional sender at once.

An address that opted out (unsubscribed, bounced, complained), was suppressed or whose contact
staff made inactive gets nothing, of any kind: the request is refused naming `to`. An address
that is no contact's, or whose sign-up awaits confirmation, may get a transactional message (it
asked for it: a receipt, a password reset) and never becomes a contact by it.

A client's retry is answered once: with an idempotency key (header or field), the same request
answers with the message it made; the key with another request is a conflict naming the field."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.core.access import Principal
from webapp.core.config import TransactionalSettings
from webapp.core.errors import Conflict, NotFound, TooManyAttempts, ValidationFailed
from webapp.core.redis import over_limit
from webapp.core.schemas import idempotency_key, load
from webapp.templates.models import EmailTemplate
from webapp.templates.service import templates
from webapp.transactional import queries
from webapp.transactional.queries import Message, TemplateFigures
from webapp.transactional.schemas import TxIn

PAGE_SIZE = 50


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    older_than: int | None  # id for the next (older) page, None on the last page


@dataclass(frozen=True)
class Sent:
    message: Message
    created: bool  # False: a retry, answered with the message made the first time


async def send(
    session: AsyncSession,
    redis: Redis,
    settings: TransactionalSettings,
    sender: Principal,
    body: Mapping[str, Any],
    header_key: str | None = None,
) -> Sent:
    """Queue one message (the caller commits, then has the delivery sent). header_key: the
    Idempotency-Key header, which a body's idempotency_key must match when both are sent."""
    retry_after = await over_limit(redis, f"tx-rate:{sender.id}", settings.rate_limit, settings.rate_window_seconds)
    if retry_after is not None:
        raise TooManyAttempts(f"Too many messages from this API key; try again in {retry_after} s.", retry_after)
    values = load(TxIn, body)
    key = idempotency_key(TxIn, values, header_key)
    request_hash = _hash(values)
    if key is not None and (sent := await _sent_before(session, sender.id, key, request_hash)) is not None:
        return sent
    template = await _template(session, values["template_id"])
    contact_id = await _mailable(session, values["to"])
    await _renders(session, template, contact_id, values.get("data", {}))
    campaign_id = await queries.tx_campaign(session, template.id)
    tx_message_id = await queries.insert_message(
        session,
        api_key_id=sender.id,
        idempotency_key=key,
        request_hash=request_hash,
        template_id=template.id,
        data=values.get("data", {}),
    )
    if tx_message_id is None:  # the same key's first request committed meanwhile
        assert key is not None  # only a keyed request is ever left out
        await session.rollback()
        sent = await _sent_before(session, sender.id, key, request_hash)
        assert sent is not None
        return sent
    await queries.queue(
        session, campaign_id=campaign_id, tx_message_id=tx_message_id, contact_id=contact_id, email=values["to"]
    )
    return Sent(await get(session, tx_message_id), created=True)


async def get(session: AsyncSession, tx_message_id: int) -> Message:
    found = await queries.message(session, tx_message_id)
    if found is None:
        raise NotFound(f"Transactional message {tx_message_id} does not exist.")
    return found


async def templates_sent(session: AsyncSession) -> list[TemplateFigures]:
    """Each template that sent transactional messages, with its figures."""
    return await queries.templates(session)


async def messages_of(
    session: AsyncSession, template_id: int, before: int | None = None, size: int = PAGE_SIZE
) -> MessagePage:
    """A template's messages, newest first, keyset on id: `before` is the last id of the previous page."""
    rows = await queries.template_messages(session, template_id, before, size + 1)
    return MessagePage(rows[:size], rows[size - 1].id if len(rows) > size else None)


def _hash(values: Mapping[str, Any]) -> str:
    """The request as understood: the same template, address and data are the same request."""
    request = {"template_id": values["template_id"], "to": values["to"].lower(), "data": values.get("data", {})}
    return hashlib.sha256(msgspec.json.encode(request, order="sorted")).hexdigest()


async def _sent_before(session: AsyncSession, api_key_id: int, key: str, request_hash: str) -> Sent | None:
    found = await queries.by_key(session, api_key_id, key)
    if found is None:
        return None
    tx_message_id, first_hash = found
    if first_hash != request_hash:
        raise Conflict("This idempotency key was used already for another message.", "idempotency_key")
    return Sent(await get(session, tx_message_id), created=False)


async def _template(session: AsyncSession, template_id: int) -> EmailTemplate:
    """A template made for transactional mail, active: marketing content (whose recipients must be
    able to unsubscribe) never goes out through this door."""
    try:
        template = await templates.get_template(session, template_id)
    except NotFound:
        raise ValidationFailed({"template_id": "No template has this id."}) from None
    if template.template_type != "transactional":
        raise ValidationFailed({"template_id": "This is a marketing template: choose a transactional one."})
    if not template.is_active:
        raise ValidationFailed({"template_id": "This template is inactive."})
    return template


async def _renders(
    session: AsyncSession, template: EmailTemplate, contact_id: int | None, data: Mapping[str, Any]
) -> None:
    """Refuse a message that would fail when sent: named on `data` when the template fails with it
    (a variable it lacks, a value of the wrong kind), on `template_id` when the template goes over
    a limit whatever the data."""
    contact = await contacts.get_contact(session, contact_id) if contact_id is not None else None
    failure = await templates.render_failure(template, contact, data)
    if failure is None:
        return
    part = templates.PART_NAMES.get(failure.field or "", "Content")
    if failure.limit:
        raise ValidationFailed({"template_id": f"The template cannot be rendered ({part}): {failure.message}"})
    raise ValidationFailed({"data": f"The template fails with this data ({part}): {failure.message}"})


async def _mailable(session: AsyncSession, email: str) -> int | None:
    """The address's contact (None: it is no contact's); ValidationFailed naming `to` when the
    address may get no mail."""
    if (why := await contacts.no_mail_reason(session, email)) is not None:
        raise ValidationFailed({"to": f"This address gets no mail: {why}."})
    return await contacts.id_by_email(session, email)
