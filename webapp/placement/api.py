"""JSON API: start an inbox placement test of a campaign and read its results. Thin: Litestar checks
types (400), the service applies the rules (404, 409 without an active seed, 422 naming each field)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody

from webapp.core.api import error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.placement.actors import send_placement_copies
from webapp.placement.schemas import PlacementTestInput, PlacementTestOut
from webapp.placement.service import placement

CampaignId = Annotated[int, id_parameter("Campaign id.")]
PlacementTestId = Annotated[int, id_parameter("Placement test id.")]


class ApiPlacementTestsController(Controller):
    tags = ("placement",)

    @post(
        "/campaigns/{campaign_id:int}/placement-tests",
        summary="Start an inbox placement test",
        status_code=201,
        responses=error_responses(404, 409, 422),
        description="Sends the campaign, as a recipient gets it, to every active seed mailbox (409 when there is "
        "none), then looks for each copy every minute. `wait_minutes` (default 30, at most 1440): copies not "
        "found by then are reported `missing`. Read the results with GET /api/placement-tests/{id}.",
    )
    async def start_test(
        self, request: StaffRequest, data: JSONBody[PlacementTestInput], db: Db, campaign_id: CampaignId
    ) -> PlacementTestOut:
        test = await placement.start(db, campaign_id, await sent_object(request))
        await db.commit()  # the worker reads the test
        send_placement_copies.send(test.id)
        return await placement.results(db, test.id)

    @get(
        "/campaigns/{campaign_id:int}/placement-tests",
        summary="List a campaign's inbox placement tests",
        responses=error_responses(404),
        description="Newest first, each with its results (see GET /api/placement-tests/{id}).",
    )
    async def list_tests(self, db: Db, campaign_id: CampaignId) -> list[PlacementTestOut]:
        return await placement.results_of_campaign(db, campaign_id)

    @get(
        "/placement-tests/{placement_test_id:int}",
        summary="Get an inbox placement test",
        responses=error_responses(404),
        description="`status`: sending, waiting (looking for copies) or done. Per seed: `placement` inbox, spam, "
        "category (with its name, e.g. Promotions) or other, the folder, the provider's DKIM, SPF and DMARC "
        "verdicts from the copy's Authentication-Results header, and the seconds it took to arrive; "
        "`inbox_percent` is of the copies sent.",
    )
    async def get_test(self, db: Db, placement_test_id: PlacementTestId) -> PlacementTestOut:
        return await placement.results(db, placement_test_id)
