"""Server-rendered SVG charts: builders that turn series of numbers into a drawing's view model
(templates/_charts.html draws it, with a legend and the data as a table), readable without
JavaScript or images."""

from webapp.core.charts.bars import bar_chart
from webapp.core.charts.columns import column_chart
from webapp.core.charts.lines import line_chart
from webapp.core.charts.model import Chart, Series

__all__ = ["Chart", "Series", "bar_chart", "column_chart", "line_chart"]
