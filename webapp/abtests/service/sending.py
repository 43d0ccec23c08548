"""An A/B test through the send pipeline: when its campaign starts, the test share is drawn at
random and split evenly between the variants while the rest is held back; once the share is sent
the test waits; when the wait is over the winner is decided (or chosen by a person) and the held
deliveries are released to it, once, in the transaction that records the decision."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import queries
from webapp.abtests.models import AbTest, AbTestStatus, AbVariant, Criterion, Fallback
from webapp.abtests.schemas import WinnerIn
from webapp.abtests.service import SUCCESSES, get_test
from webapp.abtests.service.statistics import VariantCounts, decide
from webapp.campaigns.models import CampaignStatus
from webapp.campaigns.service import campaigns
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.schemas import load

NOBODY_HELD = (
    "No winner was chosen: the audience was too small to hold anyone back for one, so every recipient got "
    "one of the variants."
)


async def start(session: AsyncSession, campaign_id: int) -> None:
    """The campaign's deliveries were just written: if it is an A/B test, split them (once)."""
    test = await queries.start_testing(session, campaign_id)
    if test is not None:
        await queries.split_deliveries(session, test)


async def variants_by_id(session: AsyncSession, variant_ids: Sequence[int]) -> dict[int, AbVariant]:
    return await queries.variants_by_id(session, variant_ids)


async def holds_back(session: AsyncSession, campaign_id: int) -> bool:
    """Whether the campaign, with nothing left to send, still has deliveries its test holds back:
    the test share is sent and the test waits for its winner. Otherwise the test is over: its
    winner was sent, or the audience was too small to leave anyone after the test share."""
    if await queries.has_held(session, campaign_id):
        await queries.move_status(session, campaign_id, AbTestStatus.TESTING, AbTestStatus.WAITING)
        return True
    await queries.move_status(session, campaign_id, AbTestStatus.WINNER_CHOSEN, AbTestStatus.SENT)
    await queries.move_status(session, campaign_id, AbTestStatus.TESTING, AbTestStatus.SENT, NOBODY_HELD)
    return False


async def waiting_for_winner(session: AsyncSession) -> set[int]:
    """Campaigns whose test share is sent and whose test waits: nothing is theirs to send meanwhile."""
    return await queries.waiting_campaign_ids(session)


async def _winner(session: AsyncSession, test: AbTest, variants: Sequence[AbVariant]) -> tuple[int, str]:
    counts = await queries.count_by_variant(session, test.id)
    successes = SUCCESSES[Criterion(test.criterion)]
    per_variant = [VariantCounts(v.label, counts[v.id].recipients, getattr(counts[v.id], successes)) for v in variants]
    control = next(v.label for v in variants if v.is_control)
    decision = await asyncio.to_thread(
        decide, per_variant, confidence=test.confidence_level, fallback=Fallback(test.fallback), control=control
    )
    return next(v.id for v in variants if v.label == decision.winner), decision.reason


async def _release(session: AsyncSession, test: AbTest, variant_id: int, reason: str) -> bool:
    """Record the winner and release the held deliveries to it, in the caller's transaction; False
    (and nothing changed) if the test was decided meanwhile."""
    if not await queries.choose(session, test.id, variant_id, reason):
        return False
    await queries.release_held(session, test.campaign_id, variant_id)
    return True


async def decide_due(session: AsyncSession) -> list[int]:
    """Decide every waiting test whose wait is over (manual ones wait for a person) and release its
    held deliveries to the winner, one transaction per test; the campaigns released."""
    released = []
    for test in await queries.due_tests(session, [c.value for c in SUCCESSES]):  # every criterion but manual
        variants = (await queries.variants_by_test(session, [test.id]))[test.id]
        variant_id, reason = await _winner(session, test, variants)
        if await _release(session, test, variant_id, reason):
            released.append(test.campaign_id)
        await session.commit()
    return released


async def choose_winner(session: AsyncSession, test_id: int, data: Mapping[str, Any], chosen_by: str) -> None:
    """A person's choice, for a test whose share is sent and that is not decided yet (Conflict
    otherwise); whatever the criterion. The campaign's sending picks the released deliveries up
    at the next scheduler tick. Commits."""
    test = await get_test(session, test_id)
    variant_id = load(WinnerIn, data)["variant_id"]
    variants = (await queries.variants_by_test(session, [test.id]))[test.id]
    variant = next((v for v in variants if v.id == variant_id), None)
    if variant is None:
        raise ValidationFailed({"variant_id": "This test has no variant with this id."})
    if (await campaigns.get_campaign(session, test.campaign_id)).status == CampaignStatus.CANCELLED.value:
        raise Conflict("Its campaign was cancelled: nothing more is sent.")
    if test.status != AbTestStatus.WAITING.value:
        raise Conflict(f"A winner is chosen once the test share is sent and before one is; this test is {test.status}.")
    if not await _release(session, test, variant.id, f"{variant.label} was chosen by {chosen_by}."):
        raise Conflict("A winner was chosen meanwhile.")
    await session.commit()
