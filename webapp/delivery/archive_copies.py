"""The public archive's copy of a campaign: the message as the web should see it, with nothing of
any recipient in it. Personalisation renders as for a contact with no fields (so a template's
`default("there")` shows), links go straight to their pages (no click tracking), there is no open
pixel, the unsubscribe and preference links lead nowhere and {{ web_version_url }} is the archive
page itself. An A/B tested campaign shows the variant sent to the rest of its audience.

Rendering is kept per template and page address (async-lru), so visitors of a popular issue cost
the renderer processes nothing; a changed campaign is a new template."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from async_lru import alru_cache
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.campaigns.models import Campaign
from webapp.delivery.campaign_message import WORDS, VariantSource, message_words, prepare, with_variant
from webapp.settings.service import organisation as org_settings
from webapp.templates.service import renderer
from webapp.templates.service.rendering import MessageTemplate, RenderedMessage, RenderError, contact_context

# What the archive turns off of the campaign's own settings: no tracking, no link to itself, and no
# unsubscribe footer line (the sender lines stay).
ARCHIVE_SETTINGS = {"track_opens": False, "track_clicks": False, "web_version_link": False, "unsubscribe_link": False}
KEPT = 128  # rendered copies and subjects kept per process


def page_url(public_url: str, campaign_id: int) -> str:
    return f"{public_url.rstrip('/')}/archive/{campaign_id}"


async def subjects(session: AsyncSession, campaigns: Sequence[Campaign]) -> list[str]:
    """Each campaign's subject as the archive shows it; a subject that fails to render as written."""
    variants = await abtests.variants_for_the_rest(session, [c.id for c in campaigns])
    found = []
    for campaign in campaigns:
        variant = variants.get(campaign.id)
        subject = campaign.subject if variant is None or variant.subject is None else variant.subject
        rendered = await _rendered(MessageTemplate(subject, ""), "")
        found.append(subject if isinstance(rendered, RenderError) else rendered.subject)
    return found


async def copy(session: AsyncSession, campaign: Campaign, public_url: str) -> RenderedMessage | RenderError:
    variant = (await abtests.variants_for_the_rest(session, [campaign.id])).get(campaign.id)
    source = with_variant(campaign, variant) if variant is not None else _as_source(campaign)
    source = dataclasses.replace(source, settings={**(campaign.settings or {}), **ARCHIVE_SETTINGS})
    org = dataclasses.replace(await org_settings.load(session), dkim_private_key="")  # nothing is signed
    prepared = await prepare(session, source, org, public_url)
    return await _rendered(prepared.template, page_url(public_url, campaign.id))


def _as_source(campaign: Campaign) -> VariantSource:
    return VariantSource(
        id=campaign.id,
        subject=campaign.subject,
        html_content=campaign.html_content,
        text_content=campaign.text_content,
        from_name=campaign.from_name,
        from_email=campaign.from_email,
        reply_to=campaign.reply_to,
        settings=campaign.settings,
    )


@alru_cache(maxsize=KEPT)
async def _rendered(template: MessageTemplate, own_url: str) -> RenderedMessage | RenderError:
    links = {
        "unsubscribe_url": "#",
        "preferences_url": "#",
        "web_version_url": own_url or "#",
        WORDS: message_words(""),  # a copy for anyone: the default language's
    }
    (result,) = await renderer.render_batch(template, [contact_context(None, links)])
    return result
