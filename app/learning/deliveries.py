"""What a learner has taken of a course: lessons opened, files sent, videos played past a
threshold, and lessons marked complete. A downloaded PDF or video is kept whatever the
progress bar says, so the refund rule (commerce/refunds.py) counts these deliveries, not
only completion.

Each fact is one row per learner, lesson and kind, written once: the first delivery inserts
it, every later one (a video's many Range requests, a page reloaded) only reads."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.catalog.models import Lesson
from app.dbtypes import insert_on_conflict, utcnow
from app.errors import Invalid
from app.extensions import db
from app.learning.models import DELIVERY_KINDS, Enrollment, LessonDelivery
from app.learning.queries import completed_lesson_ids, ordered_lessons


def watched_threshold(lesson: Lesson) -> int:
    """Seconds into a video after which it counts as watched (`VIDEO_WATCHED_SECONDS`, or the
    whole video when it is known to be shorter)."""
    seconds = current_app.config["VIDEO_WATCHED_SECONDS"]
    return min(seconds, lesson.duration_seconds) if lesson.duration_seconds else seconds


def what_counts() -> str:
    """The plain words for what counts as taking a lesson: the rule's text, shown to buyers."""
    seconds = current_app.config["VIDEO_WATCHED_SECONDS"]
    return (f"open it, download its video or PDF, play its video past the first {seconds} seconds, "
            "or mark it complete")


def record_delivery(learner, lesson: Lesson, kind: str, *, now: datetime | None = None) -> bool:
    """Remember that `learner` took `kind` of `lesson`; True if this is the first time. Safe
    under concurrent requests (INSERT … ON CONFLICT DO NOTHING on the unique row)."""
    if kind not in DELIVERY_KINDS:
        raise Invalid(f"Unknown kind of delivery {kind!r}.")
    known = db.session.scalar(sa.select(LessonDelivery.id).where(
        LessonDelivery.user_id == learner.id, LessonDelivery.lesson_id == lesson.id,
        LessonDelivery.kind == kind))
    if known is not None:
        return False
    inserted = db.session.execute(
        insert_on_conflict(LessonDelivery)
        .values(user_id=learner.id, lesson_id=lesson.id, kind=kind, delivered_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id", "kind"]))
    return bool(inserted.rowcount)


def record_position(learner, lesson: Lesson, seconds: int, *, now: datetime | None = None) -> None:
    """A saved video position past the threshold counts the video as watched."""
    if lesson.kind == "video" and seconds >= watched_threshold(lesson):
        record_delivery(learner, lesson, "watched", now=now)


def delivered_lesson_ids(learner_id: int, course_id: int) -> set[int]:
    return set(db.session.scalars(
        sa.select(LessonDelivery.lesson_id).distinct()
        .join(Lesson, Lesson.id == LessonDelivery.lesson_id)
        .where(LessonDelivery.user_id == learner_id, Lesson.course_id == course_id)))


def taken_percent(enrollment: Enrollment) -> int:
    """Lessons taken (opened, file sent, video watched or completed) over all lessons, as a
    whole percentage; 100 once the course is completed."""
    if enrollment.completed_at is not None:
        return 100
    lessons = {lesson.id for lesson in ordered_lessons(enrollment.course_id)}
    if not lessons:
        return 0
    taken = delivered_lesson_ids(enrollment.learner_id, enrollment.course_id) \
        | completed_lesson_ids(enrollment)
    return (len(lessons & taken) * 100) // len(lessons)
