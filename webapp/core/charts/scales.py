"""Value axes: round ticks from zero that cover the data, and short labels for them."""

from __future__ import annotations

import math

# Steps of 1, 2, 2.5 or 5 times a power of ten read as round numbers.
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
SLACK = 1e-9  # floating-point noise allowed when comparing a value with a tick


def nice_ticks(maximum: float, count: int = 5, *, whole: bool = True) -> list[float]:
    """Ticks from 0 up to the first at or above `maximum`, about `count` intervals apart. An axis of
    counts (`whole`) never steps by a fraction; an all-zero series still gets an axis, 0 to 1."""
    maximum = maximum if maximum > 0 else 1.0
    raw = maximum / count
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [s for s in STEPS if not (whole and s == 2.5 and power < 10)]
    step = next(s * power for s in steps if s * power >= raw * (1 - SLACK))
    if whole:
        step = max(1.0, step)
    intervals = math.ceil(maximum / step - SLACK)
    return [_clean(i * step) for i in range(intervals + 1)]


def _clean(value: float) -> float:
    """0.30000000000000004 → 0.3, and 3.0 → 3, so ticks compare and print as written."""
    rounded = round(value, 10)
    return int(rounded) if rounded == int(rounded) else rounded


def axis_label(value: float, unit: str = "") -> str:
    """A tick's label, short enough for a narrow axis: 1.5k, 1.25M, 0.3%."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{_clean(value / size):g}{suffix}{unit}"
    return f"{_clean(value):g}{unit}"


def figure(value: float, unit: str = "") -> str:
    """A value as a table or a direct label shows it: whole counts with separators, rates with one
    decimal (two below 1 %, where complaint rates live)."""
    if unit == "%":
        return f"{value:.2f}%" if 0 < value < 1 else f"{value:.1f}%"
    return f"{value:,.0f}{unit}"
