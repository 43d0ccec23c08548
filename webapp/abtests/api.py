"""JSON API: /api/ab-tests. Create an A/B test for a draft campaign, list tests, read one with its
live statistics per variant, choose its winner by hand, and delete one that has not started. Thin:
Litestar checks types (400), the service applies the rules (404, 409 for a campaign or test in the
wrong state, 422 naming each field)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service
from webapp.abtests.schemas import (
    AbTestCreate,
    AbTestDetailOut,
    AbTestPageOut,
    MetricStatisticsOut,
    VariantRevenueOut,
    VariantStatisticsOut,
    WinnerIn,
    test_detail_out,
    test_out,
)
from webapp.abtests.service import sending
from webapp.core.api import Cursor, Limit, checked_cursor, creator, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest

AbTestId = Annotated[int, id_parameter("A/B test id.")]


def _metric_out(found: service.MetricDecision) -> MetricStatisticsOut:
    variants = [
        VariantStatisticsOut(
            variant_id=variant_id,
            label=s.label,
            is_control=s.is_control,
            recipients=s.trials,
            successes=s.successes,
            rate=s.rate,
            interval_low=s.interval.low,
            interval_high=s.interval.high,
            p_value=s.p_value,
            probability_best=s.probability_best,
        )
        for variant_id, s in zip(found.variant_ids, found.decision.variants, strict=True)
    ]
    d = found.decision
    return MetricStatisticsOut(
        metric=found.metric.value, variants=variants, winner=d.winner, significant=d.significant, reason=d.reason
    )


async def _detail(db: AsyncSession, test_id: int) -> AbTestDetailOut:
    test = await service.get_test(db, test_id)
    variants = (await service.variants_of(db, [test.id]))[test.id]
    statistics = [_metric_out(found) for found in await service.live_statistics(db, test, variants)]
    labels = {v.id: v.label for v in variants}
    revenue = [
        VariantRevenueOut(
            variant_id=r.variant_id,
            label=labels[r.variant_id],
            currency=r.currency,
            orders=r.orders,
            amount=str(r.amount),
        )
        for r in await service.revenue_by_variant(db, test.id)
    ]
    return test_detail_out(test, variants, statistics, revenue)


class ApiAbTestsController(Controller):
    path = "/ab-tests"
    tags = ("ab-tests",)

    @post(
        "/",
        summary="Create an A/B test",
        status_code=201,
        responses=error_responses(409, 422),
        description="For a draft campaign without one (409 otherwise). 2 to 8 variants, each a `label` and "
        "overrides of the campaign's subject, from_name, preheader, html_content and text_content (left "
        "out or null: the campaign's own); the variant with `is_control` (else the first) is the control, "
        "and every other must change something. Defaults: test_percent 20, wait_minutes 240, criterion "
        "human_opens, confidence_level 95, fallback control.",
    )
    async def create_test(self, request: StaffRequest, data: JSONBody[AbTestCreate], db: Db) -> AbTestDetailOut:
        test = await service.create_test(db, await sent_object(request))
        return await _detail(db, test.id)

    @get(
        "/",
        summary="List A/B tests",
        responses=error_responses(),
        description="Newest first, up to `limit`; pass `next_cursor` back as `cursor` for the next page.",
    )
    async def list_tests(self, db: Db, limit: Limit = 50, cursor: Cursor = None) -> AbTestPageOut:
        found = await service.find_tests(db, limit=limit, cursor=checked_cursor(cursor, service.is_test_cursor))
        return AbTestPageOut([test_out(t, found.variants[t.id]) for t in found.tests], found.next_cursor)

    @get(
        "/{ab_test_id:int}",
        summary="Get an A/B test",
        responses=error_responses(404),
        description="With live statistics per variant for unique human opens and unique clicks: each rate with "
        "its Wilson interval at the test's confidence level, the Holm-adjusted p-value of its difference "
        "from the leader (two-proportion z-test), the probability it is best (Beta(1, 1) prior), and "
        "what the test would decide now with the reason; and the revenue credited to each variant's "
        "messages, per currency.",
    )
    async def get_test(self, db: Db, ab_test_id: AbTestId) -> AbTestDetailOut:
        return await _detail(db, ab_test_id)

    @delete(
        "/{ab_test_id:int}",
        summary="Delete an A/B test",
        responses=error_responses(404, 409),
        description="A draft test only (409 otherwise); its campaign becomes a plain campaign again.",
    )
    async def delete_test(self, db: Db, ab_test_id: AbTestId) -> None:
        await service.delete_test(db, ab_test_id)

    @post(
        "/{ab_test_id:int}/winner",
        summary="Choose an A/B test's winner",
        status_code=200,
        responses=error_responses(404, 409, 422),
        description="Once the test share is sent and before a winner is chosen (409 otherwise), whatever the "
        "criterion (a manual test waits for this): the variant `variant_id` is sent to the rest of the audience "
        "within a scheduler tick.",
    )
    async def choose_winner(
        self, request: StaffRequest, data: JSONBody[WinnerIn], db: Db, ab_test_id: AbTestId
    ) -> AbTestDetailOut:
        await sending.choose_winner(db, ab_test_id, await sent_object(request), creator(request.user))
        return await _detail(db, ab_test_id)
