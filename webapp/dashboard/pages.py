"""The staff home page: how big the audience is and how it moved over the last 30 days, how the
recent campaigns did, the rates of all campaigns together, and where to go next."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Controller, get
from litestar.response import Template

from webapp.analytics import service as analytics
from webapp.analytics.schemas import AudienceDay
from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.core.charts import Chart, Series, column_chart
from webapp.core.deps import Db
from webapp.feedback import service as feedback
from webapp.lists.service import lists

GROWTH_DAYS = 30
RECENT_CAMPAIGNS = 5


def growth_chart(days: Sequence[AudienceDay]) -> Chart:
    return column_chart(
        "audience-growth",
        f"Audience changes per day, last {len(days)} days",
        [f"{d.day.day} {d.day:%b}" for d in days],
        [
            Series("Subscribed", [d.subscribed for d in days]),
            Series("Unsubscribed", [d.unsubscribed for d in days]),
            Series("Bounced", [d.bounced for d in days]),
        ],
        heading="Day (UTC)",
    )


class DashboardController(Controller):
    path = "/"

    @get("/", name="dashboard")
    async def dashboard(self, db: Db) -> Template:
        audience, exact = await contacts.count(db, ContactFilter())
        context = {
            "contacts": audience,
            "contacts_exact": exact,
            "lists": await lists.count_active(db),
            "growth": growth_chart(await analytics.audience_growth(db, GROWTH_DAYS)),
            "recent": await analytics.recent_campaigns(db, RECENT_CAMPAIGNS),
            "overall": await analytics.overall(db),
            "alerts": await feedback.alerts(db),
        }
        return Template("dashboard/index.html", context=context)
