"""The learners, lesson drop-off, quizzes and reviews & Q&A sections of the creator's analytics
(issue 17, part 1): the figures come from app.analytics.learners and .engagement (rollups only),
the Charts are made here because they belong to the adapters (app/blueprints/charts.py).

`learning_sections(scope, period, grain)` is the context the sections' partials read
(templates/studio/analytics/_learners.html, _lessons.html, _quizzes.html, _reviews.html).
"""
from __future__ import annotations

from datetime import date

from app.analytics import engagement, learners
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.analytics.tables import Column, Table
from app.blueprints.charts import Chart, Series
from app.dbtypes import utcnow
from app.formatting import MONTHS

GRAIN_WORDS = {"day": "day", "week": "week", "month": "month"}


def bucket_label(start: date, grain: str) -> str:
    """A bucket's name on a chart axis: "07 Dec", "Week of 07 Dec", "Dec 2026"."""
    if grain == "month":
        return f"{MONTHS[start.month - 1]} {start.year}"
    text = f"{start.day:02d} {MONTHS[start.month - 1]}"
    return f"Week of {text}" if grain == "week" else text


def learning_sections(scope: Scope, period: Period, grain: str) -> dict:
    figures = learners.learner_figures(scope, period, grain, utcnow())
    reviews = engagement.review_figures(scope, period, grain)
    dropoff = learners.lesson_dropoff(scope)
    labels = [bucket_label(start, grain) for start in figures.buckets]
    per = GRAIN_WORDS.get(grain, grain)
    ctx = {
        "learners": figures,
        "learners_chart": Chart(
            "learners-chart", f"Enrollments and completions per {per}",
            f"New enrollments (bars) and course completions (line) per {per}, {period.label.lower()}.",
            labels, [Series("Enrollments", figures.enrollments_per_bucket),
                     Series("Completions", figures.completions_per_bucket, style="line")]),
        "dropoff": dropoff,
        "reach_chart": None,
        "quizzes": engagement.quiz_figures(scope),
        "reviews": reviews,
        "reviews_chart": Chart(
            "reviews-chart", f"Reviews per {per}", f"Reviews written per {per}, {period.label.lower()}.",
            labels, [Series("Reviews", reviews.reviews_per_bucket)]),
        "reviews_table": Table(
            "reviews-by-bucket", f"Reviews and average rating per {per}",
            [Column(per.capitalize(), "text"), Column("Reviews"), Column("Average rating", "text")],
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
