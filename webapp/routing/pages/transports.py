"""Staff UI: the transports page (admins only): each SMTP server's and API provider's health now,
and its volume, rates and errors hour by hour (charts and a table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.charts import Chart, Series, line_chart
from webapp.core.deps import Db
from webapp.routing.models import TransportHour
from webapp.routing.service import health
from webapp.routing.service.transports import TransportView, overview

PERIODS = {1: "Last 24 hours", 2: "Last 2 days", 7: "Last 7 days"}
DEFAULT_DAYS = 2


@dataclass(frozen=True)
class Shown:
    view: TransportView
    slug: str  # the key as an HTML id
    volume: Chart
    rates: Chart


FIGURES = ("sent", "deferred", "errors", "bounced", "complained", "latency_ms", "timed")


def attempts(row: TransportHour) -> int:
    return row.sent + row.deferred + row.errors


def _hours(days: int, now: datetime) -> list[datetime]:
    last = now.replace(minute=0, second=0, microsecond=0)
    return [last - timedelta(hours=h) for h in range(days * 24 - 1, -1, -1)]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def _charts(view: TransportView, slug: str, hours: list[datetime]) -> tuple[Chart, Chart]:
    found = {row.hour: row for row in view.hours}
    rows = [found.get(h, TransportHour(transport=view.key, hour=h, **dict.fromkeys(FIGURES, 0))) for h in hours]
    labels = [f"{h.day} {h:%b %H:%M}" for h in hours]
    volume = line_chart(
        f"transport-{slug}-volume",
        f"{view.name}: messages by hour",
        labels,
        [
            Series("Sent", [r.sent for r in rows]),
            Series("Deferred (4xx)", [r.deferred for r in rows]),
            Series("Errors", [r.errors for r in rows]),
            Series("Bounced", [r.bounced for r in rows]),
        ],
        heading="Hour (UTC)",
    )
    rates = line_chart(
        f"transport-{slug}-rates",
        f"{view.name}: rates by hour (%)",
        labels,
        [
            Series("Error rate", [_percent(r.errors, attempts(r)) for r in rows]),
            Series("Deferral rate", [_percent(r.deferred, attempts(r)) for r in rows]),
            Series("Bounce rate", [_percent(r.bounced, r.sent) for r in rows]),
            Series("Complaint rate", [_percent(r.complained, r.sent) for r in rows]),
        ],
        heading="Hour (UTC)",
    )
    return volume, rates


class TransportsController(Controller):
    path = "/settings/transports"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="transports")
    async def index(self, db: Db, days: FromQuery[str] = "") -> Template:
        shown_days = next((d for d in PERIODS if str(d) == days), DEFAULT_DAYS)  # one it offers, or the default
        hours = _hours(shown_days, datetime.now(UTC))
        shown = []
        for view in await overview(db, shown_days):
            slug = view.key.replace(":", "-")
            shown.append(Shown(view, slug, *_charts(view, slug, hours)))
        context = {
            "transports": shown,
            "periods": PERIODS,
            "days": shown_days,
            "limits": {
                "errors": health.ERRORS,
                "deferrals": health.DEFERRALS,
                "bounces": health.BOUNCES,
                "complaints": health.COMPLAINTS,
                "latency": health.LATENCY,
            },
            "attempts": attempts,
        }
        return Template("routing/transports.html", context=context)
