"""What the send engine (webapp/delivery) asks of campaigns: which are due or sending, to start one
(writing its recipients down once), and to end it as sent or paused after failures. Each works on
the campaign's row locked, and changes it only while it is still sending; the caller commits.

Starting runs the readiness check again (readiness.py): a campaign that is no longer ready when it
is due, or whose audience turned out empty, fails with the reason and nothing is sent."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.campaigns.queries import records
from webapp.campaigns.schemas.campaign import AUDIENCE_EMPTY
from webapp.campaigns.service import readiness
from webapp.campaigns.service.audience import materialise_campaign, too_slow_to_select
from webapp.campaigns.service.states import check_transition
from webapp.core.config import get_settings
from webapp.warmup.service import campaigns as warmup
from webapp.webhooks.service import outbox as webhook_events

S = CampaignStatus
# A campaign paused because no SMTP server could be reached resumes by itself when one answers
# again, at most MAX_AUTO_RESUMES times (a server that keeps coming and going needs a person).
WAITING_FOR_SERVERS = "Paused automatically: no SMTP server could be reached"
MAX_AUTO_RESUMES = 3
NOT_SENT_CANCELLED = records.NOT_SENT_CANCELLED  # a delivery's error once its campaign was cancelled


async def start_due(session: AsyncSession) -> None:
    """Scheduled campaigns whose time has come are sending from now on, if they are still ready;
    the others fail with the reason."""
    for campaign in await records.due(session):
        if problems := (await readiness.check(session, campaign)).problems:
            await _fail(session, campaign, problems)
            continue
        campaign.status, campaign.status_reason = S.SENDING.value, ""
        campaign.started_at = campaign.started_at or await records.now(session)
    await session.flush()


async def _fail(session: AsyncSession, campaign: Campaign, problems: dict[str, str]) -> None:
    check_transition(campaign.status, S.FAILED)
    campaign.status, campaign.status_reason = S.FAILED.value, readiness.not_started(problems)
    campaign.completed_at = await records.now(session)


async def sending_ids(session: AsyncSession) -> list[int]:
    return await records.sending_ids(session)


async def _sending(session: AsyncSession, campaign_id: int) -> Campaign | None:
    campaign = await records.locked(session, campaign_id)
    return campaign if campaign is not None and campaign.status == S.SENDING.value else None


async def begin(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """A sending campaign with its delivery rows: made from its lists the first time only, so a
    restart never selects the audience again. None if the campaign is not sending. The first time,
    a campaign that is not ready, reaches nobody, or whose recipients take too long to find (its
    segments' rules are people's) fails instead (returned failed: send nothing)."""
    campaign = await _sending(session, campaign_id)
    if campaign is None or campaign.materialised_at is not None:
        return campaign
    if problems := (await readiness.check(session, campaign, count_audience=False)).problems:
        await _fail(session, campaign, problems)
        return campaign
    # Under warm-up only the first few go each day: the recipients most likely to want it.
    engaged_first = await warmup.under_warmup(session, campaign.from_email)
    total = await materialise_campaign(session, campaign_id, engaged_first=engaged_first)
    if total is None:
        await _fail(session, campaign, {"list_ids": too_slow_to_select(get_settings().segments.send_seconds)})
        return campaign
    if not total:
        await _fail(session, campaign, {"list_ids": AUDIENCE_EMPTY})
        return campaign
    campaign.total_recipients = total
    campaign.materialised_at = await records.now(session)
    if campaign.started_at is None:
        campaign.started_at = campaign.materialised_at
    await webhook_events.emit(session, "campaign.started", _event(campaign))
    return campaign


async def complete(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """Every recipient is done: the campaign is sent. None if it was no longer sending."""
    campaign = await _sending(session, campaign_id)
    if campaign is not None:
        check_transition(campaign.status, S.SENT)
        campaign.status = S.SENT.value
        campaign.completed_at = await records.now(session)
        await webhook_events.emit(session, "campaign.completed", _event(campaign) | {"sent": campaign.sent_count})
    return campaign


def _event(campaign: Campaign) -> dict[str, object]:
    return {"campaign_id": campaign.id, "name": campaign.name, "recipients": campaign.total_recipients}


async def pause_after_failures(
    session: AsyncSession, campaign_id: int, failures: int, last_error: str, *, servers_down: bool = False
) -> Campaign | None:
    """Too many messages in a row failed: pause, saying why. None if it was no longer sending.
    servers_down: no server could be reached, so sending may resume by itself (see waiting_for_servers)."""
    campaign = await _sending(session, campaign_id)
    if campaign is not None:
        campaign.status = S.PAUSED.value
        in_a_row = f"{failures} failed messages in a row. Last error: {last_error}"
        if servers_down and campaign.auto_resumes < MAX_AUTO_RESUMES:
            campaign.status_reason = (
                f"{WAITING_FOR_SERVERS} ({in_a_row}). Sending resumes by itself when a server answers again."
            )
        else:
            campaign.status_reason = f"Paused automatically after {in_a_row}"
    return campaign


async def claimable(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign if it is sending, locked against status changes until the caller commits: a
    pause waits for a claim in progress, and a claim sees a pause that committed before it."""
    campaign = await records.locked_for_sending(session, campaign_id)
    return campaign if campaign is not None and campaign.status == S.SENDING.value else None


async def waiting_for_servers(session: AsyncSession) -> list[int]:
    """Campaigns paused because no server could be reached, that may still resume by themselves."""
    return await records.paused_with_reason(session, WAITING_FOR_SERVERS, MAX_AUTO_RESUMES)


async def resume_for_servers(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """A server answers again: resume a campaign waiting for one (counted). None if it no longer waits."""
    campaign = await records.locked(session, campaign_id)
    if (
        campaign is None
        or campaign.status != S.PAUSED.value
        or not campaign.status_reason.startswith(WAITING_FOR_SERVERS)
        or campaign.auto_resumes >= MAX_AUTO_RESUMES
    ):
        return None
    if (await readiness.check(session, campaign, count_audience=campaign.materialised_at is None)).problems:
        return None  # staff changed something meanwhile: resuming is theirs to do
    check_transition(campaign.status, S.SENDING)
    campaign.status, campaign.status_reason = S.SENDING.value, ""
    campaign.auto_resumes += 1
    return campaign


async def end_cancelled(session: AsyncSession, lease_seconds: int) -> None:
    """What cancelled campaigns left unsent, and no live worker holds, ends as cancelled."""
    await records.cancel_abandoned(session, lease_seconds)
