"""WCAG contrast ratios of the colours a browser computes (getComputedStyle's "rgb(...)" strings)."""

from __future__ import annotations

import re

RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def _luminance(colour: str) -> float:
    match = RGB.fullmatch(colour.strip())
    assert match, f"not an rgb() colour: {colour!r}"
    assert match.group(4) in (None, "1"), f"a see-through colour has no contrast of its own: {colour}"
    channels = [float(value) / 255 for value in match.groups()[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
