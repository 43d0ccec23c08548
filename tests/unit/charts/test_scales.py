"""The value axis of every chart: round ticks from zero that cover the data."""

from __future__ import annotations

import pytest

from webapp.core.charts.scales import axis_label, nice_ticks


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (10, [0, 2, 4, 6, 8, 10]),
        (37, [0, 10, 20, 30, 40]),
        (101, [0, 25, 50, 75, 100, 125]),
        (1234, [0, 250, 500, 750, 1000, 1250]),
        (7, [0, 2, 4, 6, 8]),
        (3, [0, 1, 2, 3]),
        (1, [0, 1]),
    ],
)
def test_counts_get_round_whole_ticks_that_reach_the_highest_value(maximum, ticks):
    assert nice_ticks(maximum) == ticks


def test_a_count_axis_never_steps_by_a_fraction():
    assert nice_ticks(2) == [0, 1, 2]
    assert nice_ticks(22) == [0, 5, 10, 15, 20, 25]  # not 2.5 steps: nobody opens half an email


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [(0.35, [0, 0.1, 0.2, 0.3, 0.4]), (42.5, [0, 10, 20, 30, 40, 50]), (0.04, [0, 0.01, 0.02, 0.03, 0.04])],
)
def test_rates_may_step_by_fractions(maximum, ticks):
    assert nice_ticks(maximum, whole=False) == ticks


def test_an_all_zero_series_still_gets_an_axis_from_zero_to_one():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(0, whole=False) == [0, 0.2, 0.4, 0.6, 0.8, 1]


@pytest.mark.parametrize(
    ("value", "unit", "label"),
    [(0, "", "0"), (250, "", "250"), (1500, "", "1.5k"), (20000, "", "20k"), (1250000, "", "1.25M"),
     (0.1 + 0.2, "%", "0.3%"), (12.5, "%", "12.5%")],
)  # fmt: skip
def test_axis_labels_are_short(value, unit, label):
    assert axis_label(value, unit) == label
