"""The chart builders: where things are drawn, what the chart says to a screen reader, and its data
as a table."""

from __future__ import annotations

import pytest

from tests.browser.every_page.contrast import contrast
from webapp.core.charts import Series, bar_chart, column_chart, line_chart
from webapp.core.charts.layout import text_width
from webapp.core.charts.model import PALETTE, WHITE

HOURS = ["14:00", "15:00", "16:00", "17:00"]


def rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_every_series_colour_stands_out_from_the_card_and_differs_in_more_than_colour():
    assert all(contrast(rgb(style.colour), rgb(WHITE)) >= 3 for style in PALETTE)
    assert len({style.dash for style in PALETTE}) == len(PALETTE)
    assert len({style.pattern for style in PALETTE}) == len(PALETTE)


def test_a_line_chart_spreads_its_points_across_the_plot_and_scales_values_to_the_round_top_tick():
    series = [Series("Opens", [0, 10, 40, 20]), Series("Clicks", [0, 2, 5, 1])]
    chart = line_chart("opens", "Opens by hour", HOURS, series, heading="Hour")
    plot = chart.plot
    opens = chart.lines[0]
    assert [x for x, _ in opens.points] == pytest.approx(
        [plot.left, plot.left + (plot.right - plot.left) / 3, plot.left + 2 * (plot.right - plot.left) / 3, plot.right]
    )
    assert [t.label for t in chart.value_ticks] == ["0", "10", "20", "30", "40"]
    assert opens.points[0][1] == pytest.approx(plot.bottom)
    assert opens.points[2][1] == pytest.approx(plot.top)  # 40 is the top tick
    assert opens.points[3][1] == pytest.approx((plot.top + plot.bottom) / 2)
    assert opens.path.startswith(f"M{plot.left:.1f} {plot.bottom:.1f} L")
    assert chart.keys[0].style != chart.keys[1].style


def test_a_line_chart_says_what_it_shows():
    series = [Series("Opens", [0, 10, 40, 20]), Series("Clicks", [0, 0, 0, 0])]
    chart = line_chart("opens", "Opens by hour", HOURS, series, heading="Hour")
    assert chart.description == "Opens by hour, 14:00 to 17:00. Opens: 70 in all, most 40 at 16:00. Clicks: none."
    assert chart.table.columns == ["Hour", "Opens", "Clicks"]
    assert chart.table.rows[2] == ["16:00", "40", "0"]


def test_an_all_zero_line_lies_on_the_axis_and_the_axis_still_goes_from_zero_to_one():
    chart = line_chart("opens", "Opens", HOURS, [Series("Opens", [0, 0, 0, 0])], heading="Hour")
    assert [t.label for t in chart.value_ticks] == ["0", "1"]
    assert {y for _, y in chart.lines[0].points} == {chart.plot.bottom}


def test_a_chart_of_nothing_but_zeros_is_empty_so_the_page_says_so_instead():
    assert line_chart("opens", "Opens", HOURS, [Series("Opens", [0, 0, 0, 0])], heading="Hour").empty
    assert bar_chart("links", "Clicks", ["https://a.example"], [Series("Clicks", [0])], heading="Link").empty
    assert column_chart("growth", "Growth", ["1 Dec"], [Series("Subscribed", [0])], heading="Day").empty
    assert not line_chart("opens", "Opens", HOURS, [Series("Opens", [0, 0, 1, 0])], heading="Hour").empty


def test_a_single_point_sits_in_the_middle_with_a_marker():
    chart = line_chart("opens", "Opens", ["5 Dec"], [Series("Opens", [3])], heading="Day")
    (line,) = chart.lines
    assert line.points == [(pytest.approx((chart.plot.left + chart.plot.right) / 2), pytest.approx(chart.plot.top))]
    assert line.markers
    assert chart.description == "Opens, 5 Dec. Opens: 3 in all, most 3 at 5 Dec."


def test_no_data_makes_an_empty_chart_and_nothing_to_draw():
    chart = line_chart("opens", "Opens", [], [Series("Opens", [])], heading="Hour")
    assert chart.empty
    assert chart.lines == [] and chart.category_ticks == []
    assert chart.description == "Opens: no data yet."


def test_time_labels_are_thinned_until_they_fit_side_by_side():
    hours = [f"5 Dec {h:02}:00" for h in range(24)]
    chart = line_chart("opens", "Opens", hours, [Series("Opens", list(range(24)))], heading="Hour")
    shown = [t.label for t in chart.category_ticks]
    assert 2 <= len(shown) < 24
    assert shown[0] == "5 Dec 00:00"
    gaps = {round(b.at - a.at, 3) for a, b in zip(chart.category_ticks, chart.category_ticks[1:], strict=False)}
    assert len(gaps) == 1  # evenly spaced
    assert not chart.lines[0].markers  # 24 dots would run together


def test_bars_are_as_long_as_their_share_of_the_axis_with_the_value_and_share_at_their_end():
    links = ["https://example.com/offer", "https://example.com/" + "long-path/" * 10]
    chart = bar_chart("links", "Clicks per link", links, [Series("Clicks", [30, 10])], heading="Link", shares=True)
    first, second = chart.rects
    assert [t.label for t in chart.value_ticks] == ["0", "10", "20", "30"]
    assert first.width == pytest.approx(chart.plot.right - chart.plot.left)
    assert second.width == pytest.approx(first.width / 3)
    ends = [t.text for t in chart.texts if not t.full]
    assert ends == ["30 · 75.0%", "10 · 25.0%"]
    names = [t for t in chart.texts if t.full]
    assert names[0].text == links[0]
    assert names[1].text.endswith("…") and names[1].full == links[1]
    assert chart.table.columns == ["Link", "Clicks", "Share"]
    assert chart.table.rows[1] == [links[1], "10", "25.0%"]
    assert chart.description == f"Clicks per link. {links[0]}: 30 · 75.0%; {links[1]}: 10 · 25.0%."


def test_grouped_bars_compare_series_per_category_on_a_rate_axis():
    chart = bar_chart(
        "compare",
        "Rates",
        ["Open rate", "Click rate"],
        [Series("Spring", [42.5, 3.25]), Series("Summer", [38.0, 0.5])],
        heading="Figure",
        unit="%",
    )
    assert [t.label for t in chart.value_ticks] == ["0%", "10%", "20%", "30%", "40%", "50%"]
    assert [r.key for r in chart.rects] == [0, 1, 0, 1]
    assert chart.table.rows == [["Open rate", "42.5%", "38.0%"], ["Click rate", "3.2%", "0.50%"]]
    assert chart.description == "Rates. Open rate: Spring 42.5%, Summer 38.0%; Click rate: Spring 3.2%, Summer 0.50%."


def test_a_long_bar_list_is_described_by_its_first_few():
    names = [f"d{i}.example" for i in range(8)]
    chart = bar_chart("domains", "Top domains", names, [Series("Recipients", list(range(8, 0, -1)))], heading="Domain")
    assert chart.description.endswith("d4.example: 4; and 3 more.")


def test_stacked_columns_add_up_each_day_and_skip_empty_segments():
    chart = column_chart(
        "growth",
        "Audience",
        ["1 Dec", "2 Dec"],
        [Series("Subscribed", [6, 0]), Series("Unsubscribed", [2, 1]), Series("Bounced", [0, 0])],
        heading="Day",
    )
    assert [t.label for t in chart.value_ticks] == ["0", "2", "4", "6", "8"]
    day_one = [r for r in chart.rects if r.x < (chart.plot.left + chart.plot.right) / 2]
    assert [r.key for r in day_one] == [0, 1]
    assert day_one[1].y == pytest.approx(chart.plot.top)  # 6 + 2 reaches the top tick, 8
    assert day_one[0].y + day_one[0].height == pytest.approx(chart.plot.bottom)
    assert [r.key for r in chart.rects if r not in day_one] == [1]
    assert chart.description == (
        "Audience, 1 Dec to 2 Dec. Subscribed: 6 in all, most 6 at 1 Dec. Unsubscribed: 3 in all, most 2 at 1 Dec. "
        "Bounced: none."
    )


def test_more_series_than_styles_is_refused():
    with pytest.raises(ValueError, match="at most 4"):
        line_chart("x", "X", ["a"], [Series(str(i), [1]) for i in range(5)], heading="Day")


def test_time_labels_centred_under_the_first_and_last_points_stay_inside_the_drawing():
    hours = [f"1 Dec {h:02}:00" for h in range(24)]
    chart = line_chart("opens", "Opens", hours, [Series("Opens", [1] * 24)], heading="Hour")
    for tick in chart.category_ticks:
        assert tick.at - text_width(tick.label) / 2 >= 0
        assert tick.at + text_width(tick.label) / 2 <= chart.width
    assert chart.plot.right + text_width(hours[-1]) / 2 <= chart.width  # the last point's, should it be labelled


def test_intervals_are_drawn_across_their_bars_and_widen_the_axis_to_the_highest_end():
    chart = bar_chart(
        "ab",
        "Open rate per variant",
        ["A", "B"],
        [Series("Rate", [20.0, 30.0])],
        heading="Variant",
        unit="%",
        ranges=[(15.0, 25.0), (24.0, 47.0)],
    )
    assert chart.value_ticks[-1].label == "50%"  # 47 % must fit, though no bar reaches 40 %
    a, b = chart.whiskers
    assert a.low < chart.rects[0].x + chart.rects[0].width < a.high  # the rate lies inside its interval
    assert b.high > b.low > a.low and b.y > a.y
    value_b = next(t for t in chart.texts if t.text == "30.0%")
    assert value_b.x > b.high  # the value label clears the whisker, not only the bar
    assert chart.table.columns == ["Variant", "Rate", "Interval"]
    assert chart.table.rows[1] == ["B", "30.0%", "24.0% to 47.0%"]
    with pytest.raises(ValueError):
        bar_chart("x", "x", ["A"], [Series("a", [1]), Series("b", [2])], heading="h", ranges=[(0, 1)])
