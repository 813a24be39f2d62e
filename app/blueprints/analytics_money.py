"""The money sections of the analytics pages (issue 17, parts 1 and 2): app/analytics/money.py
computes them; this adapter only turns its chart data into the Chart the pages draw (analytics
sits under the blueprints, so it cannot import app/blueprints/charts.py itself)."""
from __future__ import annotations

from app.analytics import money
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.blueprints.charts import Chart, Series


def as_chart(data: money.ChartData) -> Chart:
    return Chart(id=data.id, title=data.title, description=data.description, labels=data.labels,
                 series=[Series(name, values, style) for name, values, style in data.series],
                 unit=data.unit, currency=data.currency)


def creator_revenue(scope: Scope, period: Period, grain: str) -> money.Revenue:
    revenue = money.creator_revenue(scope, period, grain)
    for section in revenue.currencies:
        section.chart = as_chart(section.chart)
    return revenue


def platform_money(scope: Scope, period: Period, grain: str, *, viewer=None) -> money.PlatformMoney:
    figures = money.platform_money(scope, period, grain, viewer=viewer)
    for section in figures.currencies:
        section.chart = as_chart(section.chart)
    return figures
