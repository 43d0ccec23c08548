"""Staff UI: a campaign's report (/campaigns/{id}/report) and up to four campaigns side by side
(/campaigns/compare). Viewers may read both; the figures come from the analytics rollups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.abtests.models import AbTest, AbVariant
from webapp.analytics import service as analytics
from webapp.analytics.pages import views
from webapp.analytics.pages.ab_test import AbTestView, ab_test_view
from webapp.campaigns.service import campaigns
from webapp.conversions import service as conversions
from webapp.conversions.service import settings as conversion_settings
from webapp.core.access import Role
from webapp.core.deps import REPORT_DEPENDENCIES, Db
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.forms import form_ids
from webapp.core.http import StaffRequest
from webapp.templates.service import templates

TOP_DOMAINS = 10
PICKABLE = 50  # the most recently sent campaigns offered for comparison


async def _ab_test(db: AsyncSession, test: AbTest, variants: list[AbVariant]) -> AbTestView:
    statistics = await abtests.live_statistics(db, test, variants)
    return ab_test_view(test, variants, statistics, await abtests.revenue_by_variant(db, test.id))


class CampaignReportsController(Controller):
    path = "/campaigns"
    dependencies = REPORT_DEPENDENCIES  # reads only: on the replica, when there is one

    @get("/{campaign_id:int}/report", name="campaign-report")
    async def report(self, request: StaffRequest, db: Db, campaign_id: FromPath[int]) -> Template:
        c = await campaigns.get_campaign(db, campaign_id)
        context: dict[str, Any] = {"c": c, "can_edit": request.user.can(Role.EDITOR)}
        if found := await abtests.test_of_campaign(db, c.id):
            context["ab_test"] = await _ab_test(db, *found)
        if c.started_at is not None:
            points = await analytics.campaign_series(db, c.id)
            links = await analytics.link_clicks(db, c.id)
            email = await templates.preview(
                db, {"subject": c.subject, "html_content": c.html_content, "text_content": c.text_content}
            )
            summary = await analytics.campaign_summary(db, c.id)
            clients = await analytics.client_breakdown(db, c.id)
            context |= {
                "headlines": views.headlines(summary),
                "hourly": views.hourly_chart(points, c.started_at, datetime.now(UTC)),
                "daily": views.daily_chart(points),
                "links": views.links_chart(links),
                "clients": views.clients_chart(clients),
                # People whose first open was a click with images off: no mail client loaded the pixel.
                "clients_unknown": summary.human_unique_opens - sum(x.human_unique_opens for x in clients),
                "domains": views.domains_chart(await analytics.top_domains(db, c.id, TOP_DOMAINS)),
                "email": views.heat_on_email(email.html, links),
                "revenue": views.revenue(await conversions.campaign_revenue(db, c.id)),
                "attribution_days": await conversion_settings.window_days(db),
            }
        return Template("analytics/report.html", context=context)

    @get("/{campaign_id:int}/report/ab-test", name="campaign-report-ab-test")
    async def ab_test(self, request: StaffRequest, db: Db, campaign_id: FromPath[int]) -> Template:
        """The A/B section alone, which the report reloads every few seconds while the test runs."""
        found = await abtests.test_of_campaign(db, campaign_id)
        if found is None:
            raise NotFound("This campaign is not an A/B test.")
        context = {"ab_test": await _ab_test(db, *found), "can_edit": request.user.can(Role.EDITOR)}
        return Template("analytics/_ab_test.html", context=context)

    @get("/compare", name="campaign-compare")
    async def compare(
        self, db: Db, picked: Annotated[list[str] | None, QueryParameter(name="campaigns")] = None
    ) -> Template:
        chosen = form_ids({"campaigns": picked or []}, "campaigns")
        context: dict[str, Any] = {
            "pickable": await analytics.recent_campaigns(db, PICKABLE),
            "chosen": chosen,
            "errors": {},
        }
        try:
            compared = await analytics.compare(db, chosen)
        except ValidationFailed as exc:
            context["errors"] = exc.errors
            return Template("analytics/compare.html", context=context, status_code=422)
        context |= {
            "compared": compared,
            "rows": views.comparison_rows(compared),
            "chart": views.comparison_chart(compared),
            "over_time": views.comparison_over_time(
                [(c, await analytics.campaign_series(db, c.campaign_id)) for c in compared]
            ),
        }
        return Template("analytics/compare.html", context=context)
