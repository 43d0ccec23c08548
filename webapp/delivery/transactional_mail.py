"""Transactional messages (POST /api/tx): each is a delivery of its template's hidden campaign,
rendered with the data its request sent, and sent at once by its own queue's actor; the scheduler
tick sends those still due (retries after a 4xx, a queue message lost). Handed over and recorded
as automation emails are (automation_mail.py), so none goes twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from webapp.campaigns.models import Campaign
from webapp.core.config import get_settings
from webapp.core.db import get_sessionmaker
from webapp.delivery import automation_mail
from webapp.delivery import queries as deliveries
from webapp.delivery.campaign_message import PreparedCampaign
from webapp.delivery.pipeline import keep_alive, message_id_domain, message_id_salt, prepared_campaign
from webapp.delivery.queries import Claimed, ContactFields
from webapp.delivery.queries import transactional_mail as queries
from webapp.delivery.watch import watch
from webapp.templates.service import renderer
from webapp.templates.service.rendering import RenderError, contact_context

HEARTBEAT_KEY = "transactional-mail:alive"  # a worker is sending the due transactional messages


def _heartbeat(delivery_id: int | None) -> str:
    """One request's message has a key of its own: a steady stream of requests must not look like
    a worker sending the due ones, or the tick would never start one for the retries."""
    return HEARTBEAT_KEY if delivery_id is None else f"transactional-mail:{delivery_id}:alive"


async def send(delivery_id: int | None = None) -> bool:
    """Claim, send and record this message (if it is still due) or, without an id, a batch of due
    ones; False when nothing was due."""
    watch.start()
    settings = get_settings().delivery
    async with get_sessionmaker()() as session:
        items = await queries.claim(
            session,
            1 if delivery_id is not None else settings.batch_size,
            lease_seconds=settings.lease_seconds,
            salt=message_id_salt(),
            domain=message_id_domain(),
            delivery_id=delivery_id,
        )
        await session.commit()
        if not items:
            return False
        contacts = await deliveries.contacts_by_id(session, [i.contact_id for i in items if i.contact_id is not None])
        data = await queries.data_of(session, [i.id for i in items])
        prepared, kinds = {}, {}
        for campaign_id in sorted({i.campaign_id for i in items if i.campaign_id is not None}):
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None  # its deliveries are deleted with it
            prepared[campaign_id], kinds[campaign_id] = await prepared_campaign(session, campaign), campaign.kind
    async with keep_alive(_heartbeat(delivery_id), [i.id for i in items]):
        for campaign_id, campaign_message in prepared.items():
            batch = [i for i in items if i.campaign_id == campaign_id]
            messages = await render(campaign_message, batch, contacts, data)
            await automation_mail.send_rendered(campaign_id, kinds[campaign_id], campaign_message, batch, messages)
    async with get_sessionmaker()() as session:
        await queries.forget_data(session, [i.id for i in items])
        await session.commit()
    return True


async def render(
    prepared: PreparedCampaign,
    items: Sequence[Claimed],
    contacts: Mapping[int, ContactFields],
    data: Mapping[int, dict[str, Any]],
) -> list[bytes | RenderError]:
    """Each message as sent: the request's data over the contact's fields (when the address is a
    contact's), the tracking links over both (the API refuses data naming them)."""
    found = [contacts.get(i.contact_id) if i.contact_id is not None else None for i in items]
    contexts = [
        contact_context(contact) | data.get(i.id, {}) | prepared.links_for(i.id, contact.language if contact else "")
        for i, contact in zip(items, found, strict=True)
    ]
    contents = await renderer.render_batch(prepared.template, contexts)
    return [
        content if isinstance(content, RenderError) else prepared.message(i.id, i.message_id, i.email, content)
        for i, content in zip(items, contents, strict=True)
    ]


async def unfinished() -> bool:
    async with get_sessionmaker()() as session:
        return await queries.unfinished(session)
