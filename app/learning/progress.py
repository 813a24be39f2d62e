"""The player's services: which lessons a learner may open, completion, video position,
course progress and the one completion rule (every lesson done; quizzes count once passed)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Course, Lesson
from app.catalog.permissions import can_view_lesson
from app.catalog.queries import get_course, get_lesson
from app.dbtypes import insert_on_conflict, utcnow
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning import deliveries
from app.learning.errors import NotEnrolled
from app.learning.events import CourseCompleted, LessonCompleted, LessonReached, VideoWatched
from app.learning.models import Enrollment, LessonProgress, QuizAttempt
from app.learning.queries import active_enrollment, completed_lesson_ids, ordered_lessons
from app.policy import require

MAX_POSITION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LessonAccess:
    course: Course
    lesson: Lesson
    enrollment: Enrollment | None


def access_lesson(actor, course_id: int, lesson_id: int) -> LessonAccess:
    """Load a lesson for the player, checked by the one `can_view_lesson` rule."""
    course = get_course(course_id)
    lesson = get_lesson(lesson_id)
    if lesson.course_id != course.id:
        raise NotFound("No such lesson in this course.")
    enrollment = active_enrollment(actor, course)
    require(can_view_lesson(actor, lesson, enrolled=enrollment is not None), "view this lesson")
    return LessonAccess(course, lesson, enrollment)


def open_lesson(actor, access: LessonAccess, *, now: datetime | None = None) -> None:
    """The enrolled learner opened a lesson: remember it for "continue" and count it as taken."""
    if access.enrollment is None:
        return
    now = now or utcnow()
    progress_row(access.enrollment, access.lesson)
    touch(access.enrollment, access.lesson, now)
    deliveries.record_delivery(actor, access.lesson, "opened", now=now)


@dataclass(frozen=True)
class CourseProgress:
    """The figures of the player's syllabus: which lessons are done, where each video was
    left, the percentage, and where "continue" goes."""

    enrollment: Enrollment
    lessons: list[Lesson]
    done: set[int]
    positions: dict[int, int]
    percent: int
    next_lesson: Lesson | None


def course_progress(enrollment: Enrollment) -> CourseProgress:
    positions = dict(db.session.execute(sa.select(LessonProgress.lesson_id, LessonProgress.position_seconds)
                                        .where(LessonProgress.enrollment_id == enrollment.id)).all())
    return CourseProgress(enrollment, ordered_lessons(enrollment.course_id), completed_lesson_ids(enrollment),
                          {lesson_id: seconds or 0 for lesson_id, seconds in positions.items()},
                          progress_percent(enrollment), next_lesson(enrollment))


def require_enrollment(actor, course: Course) -> Enrollment:
    enrollment = active_enrollment(actor, course)
    if enrollment is None:
        raise NotEnrolled()
    return enrollment


def progress_row(enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """The enrolment's row for the lesson, made the first time the lesson is opened, saved or
    completed: that first time is when the learner "reached" the lesson (lesson drop-off)."""
    mine = sa.select(LessonProgress).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id)
    row = db.session.scalar(mine)
    if row is None:
        # The lesson open in several tabs at once: one insert wins, the others find its row (on
        # PostgreSQL they wait for its commit), and the lesson is reached once.
        made = db.session.scalar(
            insert_on_conflict(LessonProgress).values(enrollment_id=enrollment.id, lesson_id=lesson.id,
                                                      position_seconds=0, watched_seconds=0, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["enrollment_id", "lesson_id"]).returning(LessonProgress.id))
        if made is not None:
            emit(LessonReached(enrollment_id=enrollment.id, lesson_id=lesson.id))
        row = db.session.scalar(mine)
    return row


def quiz_passed(enrollment: Enrollment, lesson: Lesson) -> bool:
    if lesson.quiz is None:
        return False
    return bool(db.session.scalar(sa.select(sa.func.count()).where(
        QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.quiz_id == lesson.quiz.id,
        QuizAttempt.passed.is_(True))))


def touch(enrollment: Enrollment, lesson: Lesson, now: datetime) -> None:
    enrollment.last_lesson_id, enrollment.last_activity_at = lesson.id, now


def complete_lesson(actor, lesson: Lesson, *, now: datetime | None = None) -> Enrollment:
    """Tick a lesson done. A quiz is done only once passed (see `attempts.submit_quiz`)."""
    course = lesson.section.course
    enrollment = require_enrollment(actor, course)
    if lesson.kind == "quiz" and not quiz_passed(enrollment, lesson):
        raise Invalid("Pass the quiz to complete this lesson.")
    now = now or utcnow()
    mark_done(enrollment, lesson, now)
    return enrollment


def mark_done(enrollment: Enrollment, lesson: Lesson, now: datetime) -> None:
    row = progress_row(enrollment, lesson)
    if row.completed_at is None:
        row.completed_at = now
        emit(LessonCompleted(enrollment_id=enrollment.id, lesson_id=lesson.id))
    touch(enrollment, lesson, now)
    db.session.flush()
    check_completion(enrollment, now)


def check_completion(enrollment: Enrollment, now: datetime) -> bool:
    """Complete the course once every lesson is done. Fires `learning.course.completed`
    exactly once; lessons added later never un-complete it."""
    if enrollment.completed_at is not None:
        return True
    lessons = ordered_lessons(enrollment.course_id)
    if not lessons or {lesson.id for lesson in lessons} - completed_lesson_ids(enrollment):
        return False
    enrollment.completed_at = now
    emit(CourseCompleted(enrollment_id=enrollment.id))
    return True


def save_position(actor, lesson: Lesson, seconds, *, now: datetime | None = None) -> None:
    """Remember where the learner is in a video (called every few seconds by the player)."""
    enrollment = require_enrollment(actor, lesson.section.course)
    if lesson.kind != "video":
        raise Invalid("Only video lessons have a position to save.")
    try:
        seconds = int(float(seconds))
    except (TypeError, ValueError, OverflowError):  # OverflowError: "1e400", "inf"
        raise Invalid("The position must be a number of seconds.") from None
    if not 0 <= seconds <= MAX_POSITION_SECONDS:
        raise Invalid("The position is out of range.")
    now = now or utcnow()
    row = progress_row(enrollment, lesson)
    row.position_seconds = seconds
    record_watched(enrollment, lesson, row, seconds)
    touch(enrollment, lesson, now)
    deliveries.record_position(actor, lesson, seconds, now=now)


def watched_permille(watched_seconds: int, duration_seconds: int) -> int | None:
    """The share of a video watched, per mille (0..1000); None when its duration is unknown."""
    if not duration_seconds or duration_seconds <= 0:
        return None
    if watched_seconds >= duration_seconds:
        return 1000
    return max(0, watched_seconds) * 1000 // duration_seconds


def record_watched(enrollment: Enrollment, lesson: Lesson, row: LessonProgress, seconds: int) -> None:
    """Move the furthest point watched forward (never back; at most the video's duration when
    known) and announce the change of the watched share, if the share moved."""
    furthest = min(seconds, lesson.duration_seconds) if lesson.duration_seconds else seconds
    before = row.watched_seconds or 0
    if furthest <= before:
        return
    row.watched_seconds = furthest
    share_before = watched_permille(before, lesson.duration_seconds)
    share_after = watched_permille(furthest, lesson.duration_seconds)
    if share_after is not None and share_after != share_before:
        emit(VideoWatched(enrollment_id=enrollment.id, lesson_id=lesson.id,
                          permille_before=share_before, permille_after=share_after))


def saved_position(enrollment: Enrollment | None, lesson: Lesson) -> int:
    if enrollment is None:
        return 0
    return db.session.scalar(sa.select(LessonProgress.position_seconds).where(
        LessonProgress.enrollment_id == enrollment.id, LessonProgress.lesson_id == lesson.id)) or 0


def progress_percent(enrollment: Enrollment) -> int:
    """completed / total lessons, as a whole percentage (100 once the course is completed)."""
    lessons = ordered_lessons(enrollment.course_id)
    if not lessons:
        return 0
    done = len({lesson.id for lesson in lessons} & completed_lesson_ids(enrollment))
    percent = (done * 100) // len(lessons)
    # Lessons added after completion never un-complete the course (nor its 100%).
    return 100 if enrollment.completed_at is not None else percent


def next_lesson(enrollment: Enrollment) -> Lesson | None:
    """Where "continue" goes: the last lesson opened if unfinished, else the first not done."""
    lessons = ordered_lessons(enrollment.course_id)
    done = completed_lesson_ids(enrollment)
    if enrollment.last_lesson_id and enrollment.last_lesson_id not in done:
        last = next((lesson for lesson in lessons if lesson.id == enrollment.last_lesson_id), None)
        if last is not None:
            return last
    return next((lesson for lesson in lessons if lesson.id not in done), lessons[0] if lessons else None)


def neighbours(lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    lessons = ordered_lessons(lesson.course_id)
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    return (lessons[index - 1] if index > 0 else None,
            lessons[index + 1] if index + 1 < len(lessons) else None)
