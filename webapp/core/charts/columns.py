"""Stacked columns per day (audience growth: subscribed, unsubscribed and bounced), each series a
segment of the day's column in its own colour and pattern."""

from __future__ import annotations

from collections.abc import Sequence

from webapp.core.charts.layout import WIDTH, category_ticks, table_of, time_plot, value_scale
from webapp.core.charts.lines import describe
from webapp.core.charts.model import Chart, Rect, Series, Tick, keys_for, nothing_in

HEIGHT = 220.0
FILLED = 0.7  # of each day's slot; the rest is the gap between columns


def column_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], *, heading: str) -> Chart:
    keys = keys_for(chart_id, series)
    ticks, tick_labels, share = value_scale(series, "", stacked=True)
    plot = time_plot(tick_labels, labels, HEIGHT)
    height = plot.bottom - plot.top
    slot = (plot.right - plot.left) / len(labels) if labels else 0.0
    centres = [plot.left + slot * (i + 0.5) for i in range(len(labels))]
    rects = []
    for i, centre in enumerate(centres):
        base = plot.bottom
        for k, s in enumerate(series):
            if s.values[i] <= 0:
                continue
            size = share(s.values[i]) * height
            base -= size
            rects.append(Rect(k, centre - slot * FILLED / 2, base, slot * FILLED, size))
    return Chart(
        kind="columns",
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
        value_ticks=[Tick(plot.bottom - share(t) * height, label) for t, label in zip(ticks, tick_labels, strict=True)],
        category_ticks=category_ticks(labels, centres, plot),
        rects=rects,
    )
