"""A campaign message as the capture server keeps it: composed by the send pipeline's own code for
a delivery marked sent, with its real open pixel and tracked link, stored in the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.campaigns import audience, ready_campaign
from webapp.contacts.models import Contact
from webapp.delivery import campaign_message
from webapp.delivery.queries import Claimed
from webapp.outbox import service as outbox
from webapp.settings.service import organisation as org_settings


@dataclass(frozen=True)
class Captured:
    campaign_id: int
    delivery_id: int
    outbox_id: int
    raw: bytes


async def captured_campaign_message(session: AsyncSession, base_url: str, destination: str) -> Captured:
    email_list = await audience(session, 1)
    html = f'<html><body><p>Hello {{{{ first_name }}}}</p><a href="{destination}">Read more</a></body></html>'
    campaign = await ready_campaign(session, [email_list.id], html_content=html)
    contact = await session.scalar(text("SELECT id FROM contacts"))
    delivery_id = await session.scalar(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', now() FROM contacts RETURNING id"""),
        {"c": campaign.id},
    )
    await session.execute(
        text("UPDATE campaigns SET status = 'sent', sent_count = 1, total_recipients = 1 WHERE id = :c"),
        {"c": campaign.id},
    )
    prepared = await campaign_message.prepare(session, campaign, await org_settings.load(session), base_url)
    person = await session.get(Contact, contact)
    claimed = Claimed(delivery_id, person.id, person.email, f"<{delivery_id}@tests.example>", 0)
    (raw,) = await prepared.render_batch([claimed], {person.id: person})
    stored = await outbox.store(session, "news@example.com", [person.email], raw)
    await session.commit()
    return Captured(campaign.id, delivery_id, stored.id, raw)
