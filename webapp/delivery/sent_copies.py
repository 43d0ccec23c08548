"""A campaign's messages as their recipients got them, rendered again from the campaign's copy of
the content: each in the A/B test variant it was sent (its subject, content and sender), with the
recipient's own tracking links and footer. The API's copies of sent emails and the web version
a message links to both show these (the API's without the links that act for the subscriber)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.service import sending as abtests
from webapp.campaigns.models import Campaign
from webapp.delivery.campaign_message import MessageSource, prepare, with_variant
from webapp.settings.service import organisation as org_settings
from webapp.templates.service import renderer
from webapp.templates.service.rendering import MessageTemplate, RenderedMessage, RenderError, contact_context


@dataclass(frozen=True)
class Sent:
    delivery_id: int
    ab_variant_id: int | None
    contact: Any  # its fields personalise the copy; None once the contact is gone


async def as_sent(
    session: AsyncSession,
    campaign: Campaign,
    sent: Sequence[Sent],
    public_url: str,
    *,
    whole: bool,
    for_recipient: bool = False,
) -> list[RenderedMessage | RenderError]:
    """Each message's subject, HTML and text as sent (whole), or its subject alone; in order. Only
    the recipient's own copy (for_recipient: the web version) has their unsubscribe, preferences and
    web version links: with those, whoever holds them acts as the subscriber."""
    variant_ids = sorted({s.ab_variant_id for s in sent if s.ab_variant_id is not None})
    variants = await abtests.variants_by_id(session, variant_ids) if variant_ids else {}
    org = await org_settings.load(session) if whole else None
    copies: dict[int, RenderedMessage | RenderError] = {}
    for variant_id in dict.fromkeys(s.ab_variant_id for s in sent):
        variant = variants.get(variant_id) if variant_id is not None else None
        source: MessageSource = campaign if variant is None else with_variant(campaign, variant)
        group = [s for s in sent if s.ab_variant_id == variant_id]
        if org is not None:
            prepared = await prepare(session, source, org, public_url)
            prepared.subscriber_links = for_recipient
            rendered = await prepared.render_contents([(s.delivery_id, s.contact) for s in group])
        else:
            subject = MessageTemplate(source.subject, "")
            rendered = await renderer.render_batch(subject, [contact_context(s.contact) for s in group])
        copies.update(zip((s.delivery_id for s in group), rendered, strict=True))
    return [copies[s.delivery_id] for s in sent]
