"""The report's time charts: which hours and days they show, quiet ones included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.analytics.pages.views import comparison_over_time, comparison_rows, daily_chart, hourly_chart
from webapp.analytics.schemas import Activity, CampaignActivity, SeriesPoint

START = datetime(2026, 12, 1, 14, 20, tzinfo=UTC)
HOUR = timedelta(hours=1)


def point(start: datetime, hourly: bool, opens: int) -> SeriesPoint:
    return SeriesPoint(start=start, hourly=hourly, activity=Activity(opens=opens, human_unique_opens=opens))


def test_a_campaign_sent_three_hours_ago_shows_its_hours_until_now_quiet_ones_as_zero():
    chart = hourly_chart([point(START.replace(minute=0), True, 5)], START, START + 3 * HOUR)
    assert [row[0] for row in chart.table.rows] == ["1 Dec 14:00", "1 Dec 15:00", "1 Dec 16:00", "1 Dec 17:00"]
    assert [row[1] for row in chart.table.rows] == ["5", "0", "0", "0"]


def test_the_hours_end_48_hours_after_the_start_of_sending():
    chart = hourly_chart([], START, START + timedelta(days=30))
    rows = chart.table.rows
    assert (rows[0][0], rows[-1][0], len(rows)) == (
        "1 Dec 14:00",
        "3 Dec 14:00",
        49,
    )  # 14:00 on the 3rd is before 14:20


def test_no_start_of_sending_means_an_empty_chart():
    assert hourly_chart([], None, START).empty
    assert daily_chart([]).empty


def test_days_run_from_the_first_to_the_last_with_activity_and_hours_are_left_to_the_hourly_chart():
    day = datetime(2026, 12, 3, tzinfo=UTC)
    points = [point(START, True, 9), point(day, False, 2), point(day + timedelta(days=3), False, 1)]
    chart = daily_chart(points)
    assert [row[:2] for row in chart.table.rows] == [["3 Dec", "2"], ["4 Dec", "0"], ["5 Dec", "0"], ["6 Dec", "1"]]


def test_the_comparison_has_one_row_per_figure_and_a_column_per_campaign():
    spring = CampaignActivity(
        campaign_id=1, name="Spring", status="sent", started_at=START,
        activity=Activity(sent=200, human_unique_opens=50, human_unique_clicks=5, complaints=1),
    )  # fmt: skip
    summer = CampaignActivity(campaign_id=2, name="Summer", status="sent", started_at=START, activity=Activity())
    rows = {row[0]: row[1:] for row in comparison_rows([spring, summer])}
    assert rows["Sent"] == ["200", "0"]
    assert rows["Open rate"] == ["25.0%", "0.0%"]
    assert rows["CTOR"] == ["10.0%", "0.0%"]
    assert rows["Complaint rate"] == ["0.50%", "0.0%"]


def test_campaigns_compared_over_time_line_up_by_hours_since_each_started():
    later = START + timedelta(days=5, hours=7)
    spring = CampaignActivity(campaign_id=1, name="Spring", status="sent", started_at=START, activity=Activity())
    summer = CampaignActivity(campaign_id=2, name="Summer", status="sent", started_at=later, activity=Activity())
    chart = comparison_over_time(
        [
            (spring, [point(START.replace(minute=0), True, 4), point(START + 2 * HOUR, True, 1)]),
            (summer, [point(later.replace(minute=0) + HOUR, True, 3), point(later + timedelta(days=3), False, 9)]),
        ]
    )
    rows = {row[0]: row[1:] for row in chart.table.rows}
    assert (rows["+0h"], rows["+1h"], rows["+2h"], rows["+48h"]) == (["4", "0"], ["0", "3"], ["1", "0"], ["0", "0"])
    assert len(chart.table.rows) == 49
