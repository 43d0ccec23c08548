"""Geometry shared by the chart kinds: the drawing's size, how wide a label is, which category
labels fit under an axis, and a value scale."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from webapp.core.charts.model import Box, Series, Table, Tick
from webapp.core.charts.scales import axis_label, figure, nice_ticks

WIDTH = 400.0  # the viewBox width; the SVG scales to its container (app.css), from a phone up
CHAR_WIDTH = 6.8  # an average character at the 12-unit font app.css gives chart text
LABEL_GAP = 14.0
# Room around a chart over time: for the top tick's label, the time labels, the last one's half.
TIME_TOP, TIME_BOTTOM, TIME_RIGHT = 10.0, 26.0, 26.0


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def shorten(text: str, width: float) -> str:
    fits = max(4, int(width / CHAR_WIDTH))
    return text if len(text) <= fits else text[: fits - 1] + "…"


def value_scale(
    series: Sequence[Series], unit: str, *, stacked: bool = False
) -> tuple[list[float], list[str], Callable[[float], float]]:
    """The value axis's ticks, their labels, and a function giving a value's share of the axis
    (0 at zero, 1 at the top tick)."""
    if stacked:
        highest = max((sum(column) for column in zip(*(s.values for s in series), strict=True)), default=0.0)
    else:
        highest = max((max(s.values, default=0.0) for s in series), default=0.0)
    ticks = nice_ticks(highest, whole=unit != "%")
    top = ticks[-1]
    return ticks, [axis_label(t, unit) for t in ticks], lambda value: value / top


def time_plot(value_labels: Sequence[str], labels: Sequence[str], height: float) -> Box:
    """The plot of a chart over time: room on the left for the value labels, and on either side for
    half a time label centred under the first or last point."""
    half_label = max((text_width(label) for label in labels), default=0.0) / 2 + 2
    left = max(max(text_width(label) for label in value_labels) + 10, half_label)
    return Box(left, TIME_TOP, WIDTH - max(TIME_RIGHT, half_label), height - TIME_BOTTOM)


def category_ticks(labels: Sequence[str], centres: Sequence[float], plot: Box) -> list[Tick]:
    """Every k-th category label, k as small as lets them sit side by side without touching."""
    if not labels:
        return []
    room = max(text_width(label) for label in labels) + LABEL_GAP
    fits = max(1, math.floor((plot.right - plot.left) / room))
    every = math.ceil(len(labels) / fits)
    return [Tick(centres[i], labels[i]) for i in range(0, len(labels), every)]


def table_of(heading: str, labels: Sequence[str], series: Sequence[Series], unit: str) -> Table:
    rows = [[label, *(figure(s.values[i], unit) for s in series)] for i, label in enumerate(labels)]
    return Table([heading, *(s.name for s in series)], rows)


def peak(labels: Sequence[str], values: Sequence[float]) -> tuple[str, float]:
    best = max(range(len(values)), key=lambda i: values[i])
    return labels[best], values[best]
