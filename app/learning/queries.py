"""Reusable learning selects."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Lesson, Section
from app.dbtypes import after_row
from app.extensions import db
from app.learning.models import CourseStats, Enrollment, LessonProgress


def enrollment_for(user, course) -> Enrollment | None:
    """The user's enrollment in the course, active or revoked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.learner_id == user.id))


def active_enrollment(user, course) -> Enrollment | None:
    enrollment = enrollment_for(user, course)
    return enrollment if enrollment is not None and enrollment.is_active else None


def is_enrolled(user, course) -> bool:
    return active_enrollment(user, course) is not None


def ordered_lessons(course_id: int) -> list[Lesson]:
    return list(db.session.scalars(
        sa.select(Lesson).join(Section, Lesson.section_id == Section.id)
        .where(Lesson.course_id == course_id).order_by(Section.position, Lesson.position)))


def completed_lesson_ids(enrollment: Enrollment) -> set[int]:
    return set(db.session.scalars(sa.select(LessonProgress.lesson_id).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.completed_at.is_not(None))))


def active_learner_ids(course_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Enrollment.learner_id).where(
        Enrollment.course_id == course_id, Enrollment.revoked_at.is_(None))))


def enrollments_of(learner_id: int) -> list[Enrollment]:
    return list(db.session.scalars(
        sa.select(Enrollment).where(Enrollment.learner_id == learner_id, Enrollment.revoked_at.is_(None))
        .order_by(sa.func.coalesce(Enrollment.last_activity_at, Enrollment.enrolled_at).desc())))


def learner_counts(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    rows = db.session.execute(sa.select(CourseStats.course_id, CourseStats.learners)
                              .where(CourseStats.course_id.in_(course_ids)))
    return dict(rows.all())


def newest_first(stmt, time_column, id_column, after: tuple[datetime, int] | None, limit: int) -> list:
    """Keyset paging, newest first by (`time_column`, `id_column`): the `limit` rows after
    the position (time, id) of the last row of the previous page (None: the first page)."""
    stmt = stmt.where(after_row(time_column, id_column, after))
    return list(db.session.scalars(stmt.order_by(time_column.desc(), id_column.desc()).limit(limit)))


def enrollments_page(learner_id: int, *, after: tuple[datetime, int] | None = None,
                     limit: int = 20) -> list[Enrollment]:
    """A learner's active enrollments, the latest enrolled first."""
    stmt = sa.select(Enrollment).where(Enrollment.learner_id == learner_id, Enrollment.revoked_at.is_(None))
    return newest_first(stmt, Enrollment.enrolled_at, Enrollment.id, after, limit)
