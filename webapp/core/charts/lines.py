"""A line chart over time: one line per series (opens and clicks, unique and total), evenly spaced
points, a value axis of round ticks and as many time labels as fit."""

from __future__ import annotations

from collections.abc import Sequence

from webapp.core.charts.layout import WIDTH, category_ticks, peak, table_of, time_plot, value_scale
from webapp.core.charts.model import Chart, Line, Series, Tick, keys_for, nothing_in
from webapp.core.charts.scales import figure

HEIGHT = 220.0
MAX_MARKERS = 14  # more points than this and their dots would run into each other


def line_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], *, heading: str) -> Chart:
    """Counts over time: `labels` name the points (hours, days), each series has one count per
    label, and `heading` names the labels' column in the table (Hour, Day)."""
    keys = keys_for(chart_id, series)
    ticks, tick_labels, share = value_scale(series, "")
    plot = time_plot(tick_labels, labels, HEIGHT)

    def y(value: float) -> float:
        return plot.bottom - share(value) * (plot.bottom - plot.top)

    n = len(labels)
    step = (plot.right - plot.left) / (n - 1) if n > 1 else 0.0
    xs = [plot.left + i * step for i in range(n)] if n > 1 else [(plot.left + plot.right) / 2] * n
    lines = [
        Line(i, [(x, y(v)) for x, v in zip(xs, s.values, strict=True)], markers=n <= MAX_MARKERS)
        for i, s in enumerate(series)
    ]
    return Chart(
        kind="line",
        id=chart_id,
        title=title,
        description=describe(title, labels, series),
        width=WIDTH,
        height=HEIGHT,
        plot=plot,
        value_axis="y",
        keys=keys,
        table=table_of(heading, labels, series, ""),
        empty=nothing_in(series),
        value_ticks=[Tick(y(t), label) for t, label in zip(ticks, tick_labels, strict=True)],
        category_ticks=category_ticks(labels, xs, plot),
        lines=lines if n else [],
    )


def describe(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """What a sighted reader takes from the chart: the period, and each series' total and peak."""
    if not labels:
        return f"{title}: no data yet."
    parts = [f"{title}, {labels[0]} to {labels[-1]}." if len(labels) > 1 else f"{title}, {labels[0]}."]
    for s in series:
        if not any(s.values):
            parts.append(f"{s.name}: none.")
            continue
        when, most = peak(labels, s.values)
        parts.append(f"{s.name}: {figure(sum(s.values))} in all, most {figure(most)} at {when}.")
    return " ".join(parts)
