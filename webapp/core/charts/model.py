"""What a chart is made of, ready for templates/_charts.html to draw: positions in the SVG's own
coordinates (its viewBox, which scales to any width), texts already formatted, and the same data as
a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

WHITE = "#ffffff"  # the card a chart sits on


@dataclass(frozen=True)
class Style:
    """How one series looks. Each colour keeps 3:1 against white (WCAG 1.4.11), and each series
    also differs in something other than colour: the dashes of its line, the pattern of its bars."""

    colour: str
    dash: str  # stroke-dasharray; "" draws a solid line
    pattern: Literal["solid", "stripes", "dots", "grid"]


PALETTE = (
    Style("#2f5bea", "", "solid"),
    Style("#c62f3a", "8 4", "stripes"),
    Style("#167a40", "2 3", "dots"),
    Style("#8f5500", "10 3 2 3", "grid"),
)
MAX_SERIES = len(PALETTE)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Key:
    """A series as the legend and the drawing name it: bars fill with `fill` (a colour, or the
    pattern with id `pattern_id`)."""

    name: str
    style: Style
    pattern_id: str

    @property
    def fill(self) -> str:
        return self.style.colour if self.style.pattern == "solid" else f"url(#{self.pattern_id})"


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    full: str = ""  # the whole text where `text` had to be shortened (a tooltip on hover)


@dataclass(frozen=True)
class Rect:
    key: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Line:
    key: int
    points: list[tuple[float, float]]
    markers: bool  # dots on each point, where there are few enough to tell apart

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(self.points))


@dataclass(frozen=True)
class Whisker:
    """A range drawn across a bar (a confidence interval), with a cap at each end."""

    low: float
    high: float
    y: float

    @property
    def path(self) -> str:
        cap = 4.0
        return (
            f"M{self.low:.1f} {self.y - cap:.1f}V{self.y + cap:.1f}M{self.low:.1f} {self.y:.1f}H{self.high:.1f}"
            f"M{self.high:.1f} {self.y - cap:.1f}V{self.y + cap:.1f}"
        )


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]  # each row's first cell names it


@dataclass(frozen=True)
class Chart:
    """`value_axis` is the axis with the numbers: "y" for lines and columns (x has the time
    categories), "x" for horizontal bars (each category names its own bars). A chart with no
    value other than zero is `empty`: the page says there is nothing yet rather than draw flat
    lines."""

    kind: Literal["line", "bars", "columns"]
    id: str
    title: str
    description: str
    width: float
    height: float
    plot: Box
    value_axis: Literal["x", "y"]
    keys: list[Key]
    table: Table
    value_ticks: list[Tick] = field(default_factory=list)
    category_ticks: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    whiskers: list[Whisker] = field(default_factory=list)
    empty: bool = False


def nothing_in(series: Sequence[Series]) -> bool:
    return not any(value for s in series for value in s.values)


def keys_for(chart_id: str, series: Sequence[Series]) -> list[Key]:
    if len(series) > MAX_SERIES:
        raise ValueError(f"a chart shows at most {MAX_SERIES} series, not {len(series)}")
    return [
        Key(s.name, style, f"{chart_id}-pattern-{i}") for i, (s, style) in enumerate(zip(series, PALETTE, strict=False))
    ]
