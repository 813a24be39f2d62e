"""Reusable course selects."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Category, Course, Lesson, Section
from app.dbtypes import after_row
from app.errors import NotFound
from app.extensions import db


def get_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("No such course.")
    return course


def get_lesson(lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def get_section(section_id: int) -> Section:
    section = db.session.get(Section, section_id)
    if section is None:
        raise NotFound("No such section.")
    return section


def categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.position, Category.name)))


def courses_by_creator(creator_id: int) -> list[Course]:
    return list(db.session.scalars(
        sa.select(Course).where(Course.creator_id == creator_id).order_by(Course.updated_at.desc())))


def review_queue(*, after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[Course]:
    """Courses waiting for a reviewer, the longest-waiting first; `after` (a course's
    `(submitted_at, id)`) and `limit` give the queue a page at a time."""
    stmt = (sa.select(Course).where(Course.status == "under_review")
            .order_by(Course.submitted_at.asc(), Course.id.asc()).limit(limit))
    stmt = stmt.where(after_row(Course.submitted_at, Course.id, after, newest_first=False))
    return list(db.session.scalars(stmt))


def slug_taken(slug: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).where(Course.slug == slug)))

