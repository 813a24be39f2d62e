"""Server-rendered SVG charts (issue 17, part 3).

(The drawing is the charts helper's to write; this is the interface every analytics section
uses.) A Chart is data only: labels, one or more series and a unit. `chart_svg(chart)` draws it
as inline SVG with a <title> and <desc>; the `chart_figure` macro in templates/_charts.html puts
it in a <figure> with the numbers in a table under <details>, so it reads without JavaScript,
without images and on paper.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

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

    def format(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "money":
            return format_money(int(value), self.currency)
        if self.unit == "percent":
            return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"
        if self.unit == "hours":
            return f"{value:.0f} h" if value < 48 else f"{value / 24:.1f} days"
        return f"{int(value):,}"


def chart_svg(chart: Chart) -> Markup:
    """The chart as inline SVG (to be drawn; until then nothing, and the table shows the numbers)."""
    return Markup("")
