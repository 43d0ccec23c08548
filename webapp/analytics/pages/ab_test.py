"""The A/B test section of a campaign's report: for each metric, every variant's rate with its
confidence interval (a table, and a bar chart with each interval drawn across its bar), how likely
it is to be the best, and what the test decides now, in words; then the revenue credited to each
variant."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_currency

from webapp.abtests import service as abtests
from webapp.abtests.models import AbTest, AbTestStatus, AbVariant, Criterion
from webapp.abtests.schemas import VariantRevenue
from webapp.core.charts import Chart, Series, bar_chart
from webapp.core.charts.scales import figure
from webapp.core.template_helpers import percent

METRIC_NAMES = {
    Criterion.HUMAN_OPENS: "Unique human opens",
    Criterion.CLICKS: "Unique clicks",
    Criterion.REVENUE: "Recipients who bought",  # a revenue test's rate: attributed orders, not amounts
}
CRITERION_NAMES = {
    **{metric.value: name.lower() for metric, name in METRIC_NAMES.items()},
    Criterion.REVENUE.value: "revenue",
    Criterion.MANUAL.value: "your choice",
}


@dataclass(frozen=True)
class VariantRow:
    label: str
    is_control: bool
    recipients: str
    successes: str
    rate: str
    interval: str
    probability_best: str
    p_value: str


@dataclass(frozen=True)
class MetricView:
    key: str
    name: str
    is_criterion: bool
    rows: list[VariantRow]
    chart: Chart
    reason: str


@dataclass(frozen=True)
class RevenueRow:
    label: str
    currency: str
    orders: str
    amount: str


@dataclass(frozen=True)
class AbTestView:
    test: AbTest
    criterion: str
    chosen: str  # the chosen variant's label, or ""
    metrics: list[MetricView]
    revenue: list[RevenueRow]
    choices: list[tuple[int, str]]  # (id, label) of each variant a person may send to the rest now
    manual: bool  # the winner is a person's choice


def ab_test_view(
    test: AbTest,
    variants: list[AbVariant],
    found: list[abtests.MetricDecision],
    revenue: list[VariantRevenue],
) -> AbTestView:
    labels = {v.id: v.label for v in variants}
    chosen = labels.get(test.chosen_variant_id or 0, "")
    rows = [
        RevenueRow(
            labels[r.variant_id], r.currency, figure(r.orders), format_currency(r.amount, r.currency, locale="en")
        )
        for r in revenue
    ]
    choices = [(v.id, v.label) for v in variants] if test.status == AbTestStatus.WAITING.value else []
    manual = test.criterion == Criterion.MANUAL.value
    metrics = [_metric(test, m) for m in found]
    return AbTestView(test, CRITERION_NAMES[test.criterion], chosen, metrics, rows, choices, manual)


def _money(r: VariantRevenue) -> str:
    return format_currency(r.amount, r.currency, locale="en")


def _metric(test: AbTest, found: abtests.MetricDecision) -> MetricView:
    stats = found.decision.variants
    name = METRIC_NAMES[found.metric]
    rows = [
        VariantRow(
            label=s.label,
            is_control=s.is_control,
            recipients=figure(s.trials),
            successes=figure(s.successes),
            rate=percent(100 * s.rate),
            interval=f"{percent(100 * s.interval.low)} to {percent(100 * s.interval.high)}",
            probability_best=percent(100 * s.probability_best),
            p_value=f"{s.p_value:.4f}",
        )
        for s in stats
    ]
    chart = bar_chart(
        f"ab-{found.metric.value.replace('_', '-')}",
        f"{name}: rate per variant",
        [s.label for s in stats],
        [Series("Rate", [100 * s.rate for s in stats])],
        heading="Variant",
        unit="%",
        ranges=[(100 * s.interval.low, 100 * s.interval.high) for s in stats],
    )
    return MetricView(
        found.metric.value, name, test.criterion == found.metric.value, rows, chart, found.decision.reason
    )
