"""Horizontal bars, one group per category (a link, a mail client, a domain, a figure of several
campaigns): the category's name above its bars, each bar's value at its end, so long names (URLs)
keep their room on a narrow screen."""

from __future__ import annotations

from collections.abc import Sequence

from webapp.core.charts.layout import WIDTH, shorten, table_of, text_width, value_scale
from webapp.core.charts.model import Box, Chart, Rect, Series, Table, Text, Tick, Whisker, keys_for, nothing_in
from webapp.core.charts.scales import figure

LEFT, TOP, AXIS = 4.0, 4.0, 24.0
NAME, BAR, GAP, GROUP_GAP = 15.0, 12.0, 3.0, 9.0  # heights: a category's name line, a bar, between bars and groups
VALUE_GAP = 4.0
BASELINE = 0.78  # of a line's height: where the text's baseline sits


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    heading: str,
    unit: str = "",
    shares: bool = False,
    ranges: Sequence[tuple[float, float]] = (),
    describe_first: int = 5,
) -> Chart:
    """`shares` adds each value's share of the series' total (a link's share of all clicks) to its
    label and the table; `ranges` (one series only) draws each value's interval across its bar and
    adds it to the table; the description names the first `describe_first` categories."""
    if ranges and len(series) != 1:
        raise ValueError("ranges go with a chart of one series")
    keys = keys_for(chart_id, series)
    ticks, tick_labels, share = value_scale([*series, Series("", [high for _, high in ranges])], unit)
    ends = [[_end_label(s, i, unit, shares) for i in range(len(labels))] for s in series]
    widest_end = max((text_width(text) for column in ends for text in column), default=0.0)
    group = NAME + len(series) * (BAR + GAP) + GROUP_GAP
    plot = Box(LEFT, TOP, WIDTH - widest_end - VALUE_GAP - 8, TOP + group * len(labels))
    length = plot.right - plot.left
    rects, texts, whiskers = [], [], []
    for i, label in enumerate(labels):
        top = plot.top + group * i
        texts.append(Text(LEFT, top + NAME * BASELINE, shorten(label, WIDTH - LEFT), full=label))
        for k, s in enumerate(series):
            y = top + NAME + k * (BAR + GAP)
            end = size = share(s.values[i]) * length
            rects.append(Rect(k, plot.left, y, size, BAR))
            if ranges:
                low, high = ranges[i]
                whiskers.append(Whisker(plot.left + share(low) * length, plot.left + share(high) * length, y + BAR / 2))
                end = max(size, share(high) * length)
            texts.append(Text(plot.left + end + VALUE_GAP, y + BAR * 0.85, ends[k][i]))
    table = table_of(heading, labels, series, unit)
    if ranges:
        intervals = [f"{figure(low, unit)} to {figure(high, unit)}" for low, high in ranges]
        table = Table([*table.columns, "Interval"], [[*row, i] for row, i in zip(table.rows, intervals, strict=True)])
    if shares and len(series) == 1:
        shared = [[*row, end.rpartition(" · ")[2]] for row, end in zip(table.rows, ends[0], strict=True)]
        table = Table([*table.columns, "Share"], shared)
    return Chart(
        kind="bars",
        id=chart_id,
        title=title,
        description=_describe(title, labels, series, ends, describe_first),
        width=WIDTH,
        height=plot.bottom + AXIS,
        plot=plot,
        value_axis="x",
        keys=keys,
        table=table,
        empty=nothing_in(series),
        value_ticks=[Tick(plot.left + share(t) * length, label) for t, label in zip(ticks, tick_labels, strict=True)],
        rects=rects,
        texts=texts,
        whiskers=whiskers,
    )


def _end_label(s: Series, i: int, unit: str, shares: bool) -> str:
    text = figure(s.values[i], unit)
    if not shares:
        return text
    total = sum(s.values)
    return f"{text} · {figure(100 * s.values[i] / total if total else 0, '%')}"


def _describe(title: str, labels: Sequence[str], series: Sequence[Series], ends: list[list[str]], first: int) -> str:
    if not labels:
        return f"{title}: no data yet."
    named = []
    for i, label in enumerate(labels[:first]):
        if len(series) == 1:
            named.append(f"{label}: {ends[0][i]}")
        else:
            named.append(f"{label}: " + ", ".join(f"{s.name} {ends[k][i]}" for k, s in enumerate(series)))
    more = f"; and {len(labels) - first} more" if len(labels) > first else ""
    return f"{title}. " + "; ".join(named) + more + "."
