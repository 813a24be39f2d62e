"""What each analytics page shows: the figures of every section with their charts and tables,
as one context per page (the views render it; the live refresh re-reads it).

The figures come from the rollup modules (money, traffic, learners, engagement, platform); the
Charts built here are data (app/analytics/charts.py) that the web layer draws.
"""
from __future__ import annotations

from app.analytics import engagement, learners, money, periods, traffic
from app.analytics.charts import Chart, Series
from app.analytics.periods import Period
from app.analytics.platform import PlatformOverview, platform_overview, platform_tables
from app.analytics.scope import Scope
from app.analytics.tables import Column, Table
from app.dbtypes import utcnow


def creator_sections(scope: Scope, period: Period, grain: str) -> dict:
    """A creator's (or one course's) page: revenue, the funnel, sources, learners, lessons,
    quizzes, reviews and Q&A."""
    return {"revenue": money.creator_revenue(scope, period, grain),
            "funnel": funnel_section(scope, period, grain),
            "sources": sources_section(scope, period),
            **learning_sections(scope, period, grain)}


def platform_sections(scope: Scope, period: Period, grain: str, *, viewer=None) -> dict:
    """The admin's page: money, people, the review queue, moderation, disputes and payouts."""
    overview = platform_overview(period, grain)
    figures = money.platform_money(scope, period, grain, viewer=viewer)
    return {"money": figures, "platform": overview,
            "tables": {table.id: table for table in [*figures.tables, *platform_tables(overview)]},
            "people_chart": people_chart(overview), "review_chart": review_chart(overview)}


def platform_page_tables(period: Period, grain: str) -> list[Table]:
    """Every table of the admin's page, in page order (what its CSV links serve)."""
    return [*money.platform_money_tables(period), *platform_tables(platform_overview(period, grain))]


# --- traffic ---------------------------------------------------------------------------------

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


# --- learners, lessons, quizzes, reviews and Q&A ---------------------------------------------

def learning_sections(scope: Scope, period: Period, grain: str) -> dict:
    figures = learners.learner_figures(scope, period, grain, utcnow())
    reviews = engagement.review_figures(scope, period, grain)
    dropoff = learners.lesson_dropoff(scope)
    labels = [periods.bucket_label(start, grain) for start in figures.buckets]
    ctx = {
        "learners": figures,
        "learners_chart": Chart(
            "learners-chart", f"Enrollments and completions per {grain}",
            f"New enrollments (bars) and course completions (line) per {grain}, {period.label.lower()}.",
            labels, [Series("Enrollments", figures.enrollments_per_bucket),
                     Series("Completions", figures.completions_per_bucket, style="line")]),
        "dropoff": dropoff,
        "reach_chart": None,
        "quizzes": engagement.quiz_figures(scope),
        "reviews": reviews,
        "reviews_chart": Chart(
            "reviews-chart", f"Reviews per {grain}", f"Reviews written per {grain}, {period.label.lower()}.",
            labels, [Series("Reviews", reviews.reviews_per_bucket)]),
        "reviews_table": Table(
            "reviews-by-bucket", f"Reviews and average rating per {grain}",
            [Column(grain.capitalize(), "text"), Column("Reviews"), Column("Average rating", "text")],
            [[label, count, None if average is None else f"{average:.1f} of 5"]
             for label, count, average in zip(labels, reviews.reviews_per_bucket, reviews.average_per_bucket,
                                              strict=True) if count],
            caption="Stars of the reviews written in each period, as they stand now (edits included).",
            empty="No reviews in this period."),
    }
    if scope.course_id is not None and dropoff and dropoff[0].enrolled:
        course = dropoff[0]
        ctx["reach_chart"] = Chart(
            "reach-chart", "Learners who reached each lesson",
            "For each lesson in syllabus order, the share of everyone who ever enrolled who opened it.",
            [lesson.title for lesson in course.lessons],
            [Series("Reached", [lesson.reach_percent for lesson in course.lessons])],
            unit="percent", horizontal=True)
    return ctx


# --- the platform ----------------------------------------------------------------------------

def people_chart(overview: PlatformOverview) -> Chart:
    return Chart(id="chart-people", title="New learners and new creators",
                 description=f"Accounts created, and creators whose first course was published, "
                             f"per {overview.grain}: {overview.period.label.lower()}.",
                 labels=overview.labels,
                 series=[Series("New learners", overview.series("new_learners")),
                         Series("New creators", overview.series("new_creators"), style="line")])


def review_chart(overview: PlatformOverview) -> Chart:
    return Chart(id="chart-review", title="Courses submitted and decided",
                 description=f"Courses submitted for review, approved and rejected, per {overview.grain}.",
                 labels=overview.labels,
                 series=[Series("Submitted", overview.series("submissions")),
                         Series("Approved", overview.series("approvals")),
                         Series("Rejected", overview.series("rejections"))])
