"""What the dashboard shows a person about their learning and their teaching."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Course, Lesson
from app.catalog.queries import courses_by_creator
from app.extensions import db
from app.learning.certificates import certificate_for
from app.learning.models import Certificate, Enrollment, Thread
from app.learning.progress import next_lesson, progress_percent
from app.learning.queries import enrollments_of, learner_counts


@dataclass(frozen=True)
class LearningItem:
    enrollment: Enrollment
    course: Course
    percent: int
    next_lesson: Lesson | None
    certificate: Certificate | None


@dataclass(frozen=True)
class TeachingItem:
    course: Course
    learners: int
    open_questions: int


def my_learning(user) -> list[LearningItem]:
    return [LearningItem(e, e.course, progress_percent(e), next_lesson(e), certificate_for(e))
            for e in enrollments_of(user.id)]


def my_teaching(user) -> list[TeachingItem]:
    courses = courses_by_creator(user.id)
    counts = learner_counts([c.id for c in courses])
    unanswered = dict(db.session.execute(
        sa.select(Thread.course_id, sa.func.count()).join(Course, Course.id == Thread.course_id)
        .where(Course.creator_id == user.id, Thread.deleted_at.is_(None),
               Thread.answer_post_id.is_(None))
        .group_by(Thread.course_id)).all())
    return [TeachingItem(c, counts.get(c.id, 0), unanswered.get(c.id, 0)) for c in courses]
