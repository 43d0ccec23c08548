"""A/B tests: creating one for a draft campaign, reading tests with their variants, and their live
statistics (statistics.py holds the mathematics; sending.py the split, the wait and the winner).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import queries
from webapp.abtests.models import AbTest, AbTestStatus, AbVariant, Criterion, Fallback
from webapp.abtests.schemas import (
    DEFAULT_CONFIDENCE_LEVEL,
    DEFAULT_TEST_PERCENT,
    DEFAULT_WAIT_MINUTES,
    OVERRIDES,
    SETTINGS,
    AbTestCreate,
    VariantRevenue,
    control_index,
    overrides,
    variant_values,
)
from webapp.abtests.service.statistics import Decision, VariantCounts, decide
from webapp.campaigns.models import CampaignStatus
from webapp.campaigns.service import campaigns
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.schemas import Values, load
from webapp.core.validation import is_valid_id
from webapp.templates.service import templates

# The metrics every test reports, whatever its criterion; a revenue test reports revenue too.
METRICS = (Criterion.HUMAN_OPENS, Criterion.CLICKS)
# What counts as a success for each metric: a field of queries.VariantFigures. Revenue: the
# recipients to whose message a conversion was attributed.
SUCCESSES = {Criterion.HUMAN_OPENS: "human_opens", Criterion.CLICKS: "clicks", Criterion.REVENUE: "buyers"}


@dataclass(frozen=True)
class TestPage:
    tests: list[AbTest]
    variants: dict[int, list[AbVariant]]
    next_cursor: str | None


@dataclass(frozen=True)
class MetricDecision:
    metric: Criterion
    variant_ids: list[int]  # in the order of decision.variants
    decision: Decision


async def create_test(session: AsyncSession, data: Mapping[str, Any]) -> AbTest:
    """A test of a draft campaign that has none yet. ValidationFailed naming each field; Conflict
    (on campaign_id) for a campaign that is not a draft or already has a test."""
    values = load(AbTestCreate, data)
    campaign_id = await _draft_campaign(session, values["campaign_id"])
    if await queries.test_of_campaign(session, campaign_id) is not None:
        raise Conflict("This campaign already has an A/B test.", field="campaign_id")
    await _require_rendering(session, values["variants"])
    return await _add(session, values)


async def save_test(session: AsyncSession, campaign_id: int, data: Mapping[str, Any]) -> AbTest:
    """The draft campaign's test as `data` says (AbTestCreate's fields but campaign_id): created, or
    put in place of the test it has while that is still a draft (the wizard's A/B test step)."""
    values = load(AbTestCreate, {**data, "campaign_id": campaign_id})
    await _draft_campaign(session, campaign_id)
    await _require_rendering(session, values["variants"])
    existing = await queries.test_of_campaign(session, campaign_id)
    if existing is not None:
        if existing.status != AbTestStatus.DRAFT:
            raise Conflict(f"This A/B test is {existing.status}; only a draft test can be changed.")
        await queries.delete_test(session, existing)
    return await _add(session, values)


async def copy_test(session: AsyncSession, campaign_id: int, copy_id: int) -> AbTest | None:
    """The campaign's test, if it has one, set up again on its draft copy: the same variants and
    settings, none of its results. Commits."""
    test = await queries.test_of_campaign(session, campaign_id)
    if test is None:
        return None
    variants = (await queries.variants_by_test(session, [test.id]))[test.id]
    values = {
        "campaign_id": copy_id,
        **{name: getattr(test, name) for name in SETTINGS},
        "variants": [
            {"label": v.label, "is_control": v.is_control, **{name: getattr(v, name) for name in OVERRIDES}}
            for v in variants
        ],
    }
    return await _add(session, values)


# A variant's own content is rendered for the sample contact as a campaign's is at its review: content
# that parses but fails (`{{ 1 / 0 }}`) would fail each of that variant's messages. The preheader
# renders like a subject.
RENDERED_AS = {
    "subject": "subject",
    "preheader": "subject",
    "html_content": "html_content",
    "text_content": "text_content",
}


async def _require_rendering(session: AsyncSession, variants: list[Values]) -> None:
    errors: dict[str, str] = {}
    for index, variant in enumerate(variants):
        for name, value in overrides(variant).items():
            if name in RENDERED_AS:
                preview = await templates.preview(session, {RENDERED_AS[name]: value})
                if message := next(iter(preview.errors.values()), ""):
                    errors[f"variants.{index}.{name}"] = message
    if errors:
        raise ValidationFailed(errors)


async def _draft_campaign(session: AsyncSession, campaign_id: int) -> int:
    try:
        campaign = await campaigns.get_campaign(session, campaign_id, for_update=True)
    except NotFound:
        raise ValidationFailed({"campaign_id": "No campaign has this id."}) from None
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(
            f"Only a draft campaign can become an A/B test; this one is {campaign.status}.", field="campaign_id"
        )
    return campaign.id


async def _add(session: AsyncSession, values: Values) -> AbTest:
    control = control_index(values["variants"])
    variants = [
        {**variant_values(variant), "is_control": index == control} for index, variant in enumerate(values["variants"])
    ]
    test = await queries.add_test(
        session,
        {
            "campaign_id": values["campaign_id"],
            "test_percent": values.get("test_percent", DEFAULT_TEST_PERCENT),
            "wait_minutes": values.get("wait_minutes", DEFAULT_WAIT_MINUTES),
            "criterion": values.get("criterion", Criterion.HUMAN_OPENS.value),
            "confidence_level": values.get("confidence_level", DEFAULT_CONFIDENCE_LEVEL),
            "fallback": values.get("fallback", Fallback.CONTROL.value),
        },
        variants,
    )
    await session.commit()
    return test


async def get_test(session: AsyncSession, test_id: int) -> AbTest:
    test = await queries.get_test(session, test_id) if is_valid_id(test_id) else None
    if test is None:
        raise NotFound("No A/B test has this id.")
    return test


async def delete_test(session: AsyncSession, test_id: int) -> None:
    """A test that has not started (Conflict otherwise); its campaign becomes a plain campaign."""
    test = await get_test(session, test_id)
    if test.status != AbTestStatus.DRAFT:
        raise Conflict(f"Only a draft A/B test can be deleted; this one is {test.status}.")
    await queries.delete_test(session, test)
    await session.commit()


async def variants_of(session: AsyncSession, test_ids: Sequence[int]) -> dict[int, list[AbVariant]]:
    return await queries.variants_by_test(session, test_ids)


async def find_tests(session: AsyncSession, *, limit: int, cursor: str | None) -> TestPage:
    found = await queries.find_tests(session, limit=limit, cursor=cursor)
    variants = await queries.variants_by_test(session, [t.id for t in found.tests])
    return TestPage(found.tests, variants, found.next_cursor)


def is_test_cursor(cursor: str) -> bool:
    return queries.is_test_cursor(cursor)


async def test_of_campaign(session: AsyncSession, campaign_id: int) -> tuple[AbTest, list[AbVariant]] | None:
    """The campaign's A/B test and its variants, if it is one."""
    test = await queries.test_of_campaign(session, campaign_id)
    if test is None:
        return None
    return test, (await queries.variants_by_test(session, [test.id]))[test.id]


async def variants_for_the_rest(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, AbVariant]:
    """The variant each A/B tested campaign sent to the rest of its audience (the chosen one; the
    control while none is); campaigns without a test are not in it."""
    return await queries.variants_for_the_rest(session, campaign_ids) if campaign_ids else {}


async def revenue_by_variant(session: AsyncSession, test_id: int) -> list[VariantRevenue]:
    """Orders credited to each variant's messages (last click), per currency: for every test."""
    return await queries.revenue_by_variant(session, test_id)


async def live_statistics(session: AsyncSession, test: AbTest, variants: Sequence[AbVariant]) -> list[MetricDecision]:
    """Each metric's statistics per variant and what the test would decide on it now."""
    counts = await queries.count_by_variant(session, test.id)
    control = next(v.label for v in variants if v.is_control)
    decisions = []
    revenue = (Criterion.REVENUE,) if test.criterion == Criterion.REVENUE.value else ()
    # What it would send is said only while that is still to be decided: a person decides a manual
    # test, and a test decided or cancelled sends nothing more on these figures.
    deciding = test.status in (AbTestStatus.DRAFT, AbTestStatus.TESTING, AbTestStatus.WAITING)
    fallback = Fallback(test.fallback) if deciding and test.criterion != Criterion.MANUAL.value else None
    for metric in (*METRICS, *revenue):
        per_variant = [
            VariantCounts(v.label, counts[v.id].recipients, getattr(counts[v.id], SUCCESSES[metric])) for v in variants
        ]
        # Tens of milliseconds of arithmetic for eight variants, more for two with huge counts: off the event loop.
        # Only the criterion's figures decide what is sent: the other metrics say what their data show.
        deciding_on = fallback if metric == test.criterion else None
        decision = await asyncio.to_thread(
            decide, per_variant, confidence=test.confidence_level, fallback=deciding_on, control=control
        )
        decisions.append(MetricDecision(metric, [v.id for v in variants], decision))
    return decisions
