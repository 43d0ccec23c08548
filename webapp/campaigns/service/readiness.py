"""Ready to send: the one check every route into sending runs (send now, schedule, resume, the
scheduler starting a due campaign, the send engine starting a campaign), so none of them can send
what another would refuse. It names each problem by the field to fix."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.queries import records
from webapp.campaigns.schemas.campaign import (
    AUDIENCE_EMPTY,
    CONTENT_MISSING,
    FROM_MISSING,
    LISTS_MISSING,
    ORGANISATION_NAME_MISSING,
    POSTAL_ADDRESS_MISSING,
    SUBJECT_MISSING,
)
from webapp.campaigns.service.audience import count_for_lists
from webapp.core.errors import ValidationFailed
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import check_template

# Fixed under Settings → Organisation, not in the campaign.
ORGANISATION_PROBLEMS = {"organisation_name": ORGANISATION_NAME_MISSING, "postal_address": POSTAL_ADDRESS_MISSING}


@dataclass(frozen=True)
class Readiness:
    problems: dict[str, str]  # field -> what to do; empty means ready
    recipients: int | None = None  # who it reaches now, when the audience was counted


async def check(session: AsyncSession, campaign: Campaign, *, count_audience: bool = True) -> Readiness:
    """Everything that stops this campaign from going out. The audience is counted unless its
    delivery rows exist already (a resumed send) or are about to be written (the engine counts those)."""
    problems: dict[str, str] = {}
    if not campaign.subject.strip():
        problems["subject"] = SUBJECT_MISSING
    if not campaign.from_email:
        problems["from_email"] = FROM_MISSING
    if not campaign.html_content.strip():
        problems["html_content"] = CONTENT_MISSING
    list_ids = await records.list_ids_of(session, campaign.id)
    if not list_ids:
        problems["list_ids"] = LISTS_MISSING
    parts = {"subject": campaign.subject, "html_content": campaign.html_content, "text_content": campaign.text_content}
    problems.update(check_template(parts).errors)
    org = await org_settings.load(session)
    problems.update(
        {name: message for name, message in ORGANISATION_PROBLEMS.items() if not getattr(org, name).strip()}
    )
    recipients = None
    if count_audience and list_ids:
        recipients = await count_for_lists(session, list_ids)
        if recipients == 0:  # None: too slow to count now, the send will find out
            problems["list_ids"] = AUDIENCE_EMPTY
    return Readiness(problems, recipients)


async def require(session: AsyncSession, campaign: Campaign, *, count_audience: bool = True) -> None:
    """ValidationFailed naming every problem, unless the campaign is ready."""
    if problems := (await check(session, campaign, count_audience=count_audience)).problems:
        raise ValidationFailed(problems)


def not_started(problems: dict[str, str]) -> str:
    """Why a campaign failed when it was due to start, and what to do about it."""
    return f"Nothing was sent. {' '.join(problems.values())} Edit it to fix this, then send or schedule it again."
