"""The pre-send content check as a campaign keeps it: the last report (made by the send engine,
webapp/delivery/content_check), valid for the content it was made from, and the threshold that
blocks sending, which only an admin overrides (who and when are kept and shown on the campaign).

The check itself needs the send engine, so the pages and the API run it (when the kept report is
not for the current content) before they call send_now or schedule; those refuse what the kept
report blocks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.queries import records
from webapp.campaigns.schemas.content_check import ContentCheckSettingsIn
from webapp.core.errors import Conflict
from webapp.core.schemas import load
from webapp.settings.service import stored

KEY = "content_check"  # in the organisation's settings: {"threshold": 5.0}
DEFAULT_THRESHOLD = 5.0  # SpamAssassin's own default
CONTENT_FIELDS = ("subject", "html_content", "text_content", "from_name", "from_email", "reply_to", "settings")
NOT_BLOCKED = "The content check does not block this campaign: there is nothing to override."


@dataclass(frozen=True)
class Verdict:
    report: dict[str, Any]  # score, findings, spamassassin_score, unchecked, checked_at
    threshold: float
    overridden_by: str = ""

    @property
    def over_threshold(self) -> bool:
        return float(self.report["score"]) >= self.threshold

    @property
    def blocks(self) -> bool:
        return self.over_threshold and not self.overridden_by


async def fingerprint(session: AsyncSession, campaign: Campaign) -> str:
    """Of what the messages are made from (its A/B test's variants too): a report made from other
    content is out of date."""
    content = {name: getattr(campaign, name) for name in CONTENT_FIELDS}
    content["variants"] = await records.variant_overrides(session, campaign.id)
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


async def current_report(session: AsyncSession, campaign: Campaign) -> dict[str, Any] | None:
    kept = campaign.content_check
    return kept if kept and kept.get("fingerprint") == await fingerprint(session, campaign) else None


async def threshold(session: AsyncSession) -> float:
    return float((await stored.load(session, KEY)).get("threshold", DEFAULT_THRESHOLD))


async def save_threshold(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """From the settings form (ValidationFailed naming the field)."""
    values = load(ContentCheckSettingsIn, data)
    await stored.save(session, KEY, {**await stored.load(session, KEY), "threshold": values["threshold"]})


async def record(session: AsyncSession, campaign: Campaign, report: dict[str, Any]) -> Verdict:
    """Keep a new report. An override was given for the content it was given for: new content
    needs a new one."""
    made_from = await fingerprint(session, campaign)
    if (campaign.content_check or {}).get("fingerprint") != made_from:
        campaign.content_override_by, campaign.content_override_at = "", None
    checked_at = (await records.now(session)).isoformat()
    campaign.content_check = {**report, "fingerprint": made_from, "checked_at": checked_at}
    await session.flush()
    return Verdict(campaign.content_check, await threshold(session), campaign.content_override_by)


async def verdict(session: AsyncSession, campaign: Campaign) -> Verdict | None:
    """The current report against the threshold; None when there is none for this content."""
    report = await current_report(session, campaign)
    if report is None:
        return None
    return Verdict(report, await threshold(session), campaign.content_override_by)


async def require_clear(session: AsyncSession, campaign: Campaign) -> None:
    """Conflict when the current report is over the threshold and no admin overrode it."""
    found = await verdict(session, campaign)
    if found is not None and found.blocks:
        raise Conflict(blocked_message(found), "content_check")


def blocked_message(found: Verdict) -> str:
    return (
        f"The content check scored {found.report['score']:g}, at or over the threshold of {found.threshold:g}: "
        "fix what it found (see the review step), or an admin can let it go out anyway."
    )


async def override(session: AsyncSession, campaign_id: int, by: str) -> Campaign:
    """An admin lets the campaign go out over the threshold (Conflict when nothing blocks it)."""
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    found = await verdict(session, campaign) if campaign is not None else None
    if campaign is None or found is None or not found.blocks:
        raise Conflict(NOT_BLOCKED, "content_check")
    campaign.content_override_by, campaign.content_override_at = by, await records.now(session)
    await session.flush()
    return campaign
