"""What a chart shows, as data: the analytics sections build Charts, the web layer draws them
(app/blueprints/charts.py `chart_svg`, and the `chart_figure` macro with the numbers in a table).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.money import format_money

UNITS = ("count", "percent", "hours", "money")


@dataclass
class Series:
    name: str
    values: list[float]
    style: str = "bar"  # bar | line (a line is drawn over the bars: e.g. the previous period)


@dataclass
class Chart:
    id: str  # unique on the page: the ids of its title and description derive from it
    title: str
    description: str  # one sentence saying what the chart shows, for screen readers
    labels: list[str]  # one per value: the buckets of a time chart, or the name of each bar
    series: list[Series] = field(default_factory=list)
    unit: str = "count"  # count | percent (0..100) | hours | money
    currency: str = "USD"  # for unit "money": values are minor units
    horizontal: bool = False  # one bar per label across the page (lessons, questions, sources)
    stacked: bool = False  # column charts: bar series stacked in one column instead of side by side

    def format(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "money":
            return format_money(int(value), self.currency)
        if self.unit == "percent":
            return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"
        if self.unit == "hours":
            return f"{value:.0f} h" if value < 48 else f"{value / 24:.1f} days"
        if not float(value).is_integer():  # an average (e.g. a rating of 4.5)
            return f"{value:,.1f}"
        return f"{int(value):,}"
