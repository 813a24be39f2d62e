"""Figures shown beside a creator's courses (the creator page, a course page's "about the
creator"): catalog rows joined with learning's numbers, which is why they live in discovery."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Course
from app.extensions import db
from app.learning.models import CourseStats


def creator_summary(creator_id: int) -> dict:
    """Published courses, total learners and average rating of a creator's courses."""
    row = db.session.execute(
        sa.select(sa.func.count(Course.id), sa.func.coalesce(sa.func.sum(CourseStats.learners), 0),
                  sa.func.coalesce(sa.func.sum(CourseStats.rating_sum), 0),
                  sa.func.coalesce(sa.func.sum(CourseStats.rating_count), 0))
        .outerjoin(CourseStats, CourseStats.course_id == Course.id)
        .where(Course.creator_id == creator_id, Course.status == "published")).one()
    courses, learners, rating_sum, rating_count = row
    return {"courses": courses, "learners": int(learners), "rating_count": int(rating_count),
            "rating_average": (rating_sum / rating_count) if rating_count else 0.0}
