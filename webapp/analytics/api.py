"""JSON API: a campaign's daily analytics and the platform's figures (seed 000 shapes), read from
the rollups. Reading needs a viewer key."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from webapp.analytics import service as analytics
from webapp.analytics.schemas import DailyAnalyticsOut, StatsOut
from webapp.campaigns.service import campaigns
from webapp.core.api import error_responses, id_parameter
from webapp.core.deps import REPORT_DEPENDENCIES, Db

CampaignId = Annotated[int, id_parameter("Campaign id.")]


class ApiAnalyticsController(Controller):
    tags = ("analytics",)
    dependencies = REPORT_DEPENDENCIES  # reads only: on the replica, when there is one

    @get(
        "/campaigns/{campaign_id:int}/analytics",
        summary="A campaign's analytics per day",
        responses=error_responses(404, 422),
        description="One row per UTC day for the last `days` days, oldest first, today included, days without "
        "activity too. Opens and clicks are unique human ones (machine opens such as Apple Mail Privacy "
        "Protection and security-scanner clicks left out). open_rate and click_rate are percent of "
        "emails_delivered (sent and not bounced, or as a provider reports it); bounce_rate and "
        "unsubscribe_rate percent of emails_sent.",
    )
    async def campaign_analytics(
        self,
        db: Db,
        campaign_id: CampaignId,
        days: Annotated[
            int,
            # Stated, not enforced here: the service's 422 names the field in words.
            Parameter(
                description=f"1 to {analytics.MAX_DAYS}.", schema_extra={"minimum": 1, "maximum": analytics.MAX_DAYS}
            ),
        ] = 30,
    ) -> list[DailyAnalyticsOut]:
        await campaigns.get_campaign(db, campaign_id)
        return await analytics.campaign_daily(db, campaign_id, days)

    @get(
        "/stats",
        summary="Platform statistics",
        responses=error_responses(),
        description="Contacts (all, and active: subscribed and not bounced, unsubscribed or complained), "
        "campaigns (all, and those that started sending), and every campaign's messages and rates together; "
        "rates as in a campaign's analytics.",
    )
    async def stats(self, db: Db) -> StatsOut:
        return await analytics.stats(db)
