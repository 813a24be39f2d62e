"""Whose figures a page shows, and the one query every rollup section sums with.

A Scope is the whole platform (no creator), one creator's courses, or one course. Sections sum
the rollup rows of their scope per day in SQL (an index range: at most a few thousand rows for a
three-year period) and group the days into buckets in Python, the same way on both databases.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.analytics.periods import Period, bucket_start, buckets
from app.analytics.permissions import can_view_creator_analytics, can_view_platform_analytics
from app.catalog.models import Course
from app.catalog.queries import get_course
from app.errors import NotFound
from app.extensions import db
from app.policy import require


@dataclass(frozen=True)
class Scope:
    creator_id: int | None = None  # None: the whole platform
    course_id: int | None = None  # set: one course of that creator
    course_title: str = ""

    @property
    def is_platform(self) -> bool:
        return self.creator_id is None

    def filter(self, model):
        """The WHERE condition on a rollup model with course_id/creator_id columns."""
        if self.course_id is not None:
            return model.course_id == self.course_id
        if self.creator_id is not None:
            return model.creator_id == self.creator_id
        return sa.true()


def creator_scope(actor, creator_id: int) -> Scope:
    require(can_view_creator_analytics(actor, creator_id), "see these figures")
    return Scope(creator_id=creator_id)


def course_scope(actor, course_id: int) -> Scope:
    """One course's figures, for its creator (or a finance admin); anyone else gets a 404, as
    for a course they cannot see."""
    course: Course = get_course(course_id)
    if not can_view_creator_analytics(actor, course.creator_id):
        raise NotFound("No such course.")
    return Scope(creator_id=course.creator_id, course_id=course.id, course_title=course.title)


def platform_scope(actor) -> Scope:
    require(can_view_platform_analytics(actor), "see the platform's figures")
    return Scope()


def daily_sums(model, scope: Scope, period: Period, columns: list[str],
               *, group_by: str | None = None) -> dict:
    """{day: {column: sum}} over the scope's rows in the period; with `group_by` (a column name
    such as `currency`), {(group value, day): {column: sum}}."""
    keys = [model.day] if group_by is None else [getattr(model, group_by), model.day]
    rows = db.session.execute(
        sa.select(*keys, *[sa.func.coalesce(sa.func.sum(getattr(model, name)), 0) for name in columns])
        .where(scope.filter(model), model.day >= period.start, model.day <= period.end)
        .group_by(*keys))
    result: dict = {}
    for row in rows:
        key = row[0] if group_by is None else (row[0], row[1])
        result[key] = dict(zip(columns, (int(value) for value in row[len(keys):]), strict=True))
    return result


def totals(daily: dict, columns: list[str]) -> dict[str, int]:
    """The sum of each column over every day of `daily_sums`."""
    summed = dict.fromkeys(columns, 0)
    for figures in daily.values():
        for name in columns:
            summed[name] += figures.get(name, 0)
    return summed


def per_bucket(daily: dict[date, dict[str, int]], period: Period, grain: str,
               column: str) -> list[int]:
    """One value per bucket of the period (oldest first, empty buckets as 0)."""
    sums: dict[date, int] = defaultdict(int)
    for day, figures in daily.items():
        sums[bucket_start(day, grain)] += figures.get(column, 0)
    return [sums[start] for start in buckets(period, grain)]
