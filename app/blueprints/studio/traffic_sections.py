"""The analytics page's traffic sections (issue 17, part 1): the funnel from course page view to
sale, and the traffic sources, with their charts. The figures are app/analytics/traffic.py's;
this only draws them as Charts (which belong to the web layer)."""
from __future__ import annotations

from app.analytics import traffic
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.blueprints.charts import Chart, Series


def funnel_section(scope: Scope, period: Period, grain: str) -> dict:
    data = traffic.funnel(scope, period, grain)
    steps = data["steps"]
    data["chart"] = Chart(
        "traffic-funnel", "From course page view to sale",
        "Course page views, checkouts started and paid orders in this period and the previous one.",
        [step.label for step in steps],
        [Series("This period", [step.value for step in steps]),
         Series("Previous period", [step.previous for step in steps])],
        horizontal=True)
    data["over_time"] = Chart(
        "traffic-over-time", "Page views, checkouts and sales over time",
        f"Course page views (bars), checkouts started and sales (lines) per {grain}.",
        data["labels"],
        [Series("Page views", data["series"]["page_views"]),
         Series("Checkouts started", data["series"]["checkouts"], style="line"),
         Series("Sales", data["series"]["sales"], style="line")])
    return data


def sources_section(scope: Scope, period: Period) -> dict:
    data = traffic.sources(scope, period)
    rows = [row for row in data["table"].rows if row[1] or row[3]][:10]
    data["chart"] = Chart(
        "traffic-sources-chart", "Sales and page views by source",
        "The sources that brought the most sales, with their page views, in this period.",
        [row[0] for row in rows],
        [Series("Page views", [row[1] for row in rows]), Series("Sales", [row[3] for row in rows])],
        horizontal=True)
    return data
