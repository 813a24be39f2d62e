"""Enrolments, completions and lesson reach, rolled up per course (issue 17, part 1); quizzes,
reviews and Q&A are in engagement.py (this module's `rebuild` runs both).

- CourseDay.enrollments on the day of the enrolment, completions on the day of the completion.
- DurationDay `completion`: hours from enrolment to completion, on the completion's day (the
  median time to complete of a period); `completion_cohort`: the same, on the ENROLMENT's day,
  so "of the enrolments made in a period, how many have completed" is a sum over rollups too.
- LessonReach (all-time, per lesson): reached (the enrolment's lesson_progress row was made:
  the lesson was opened, saved or completed), completed, and for videos of known duration the
  sum of each reacher's furthest share watched (per mille) and how many reachers that sums.

Pages read these rollups, plus the learners active in the last 7 and 30 days: a count through
the index ix_enrollment_course_activity. No page reads lesson_progress or quiz_attempt.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.analytics import engagement, live, rollups
from app.analytics.engagement import (
    bump_course_days,
    bump_duration,
    bump_durations,
    course_key,
    duration_counts,
    in_scope,
    median_hours,
    percent,
    reset_durations,
)
from app.analytics.models import CourseDay, LessonReach
from app.analytics.periods import Period, buckets
from app.analytics.scope import Scope, daily_sums, per_bucket, totals
from app.catalog.models import Course, Lesson, Section
from app.events import subscribe
from app.extensions import db
from app.learning.events import CourseCompleted, EnrollmentCreated, LessonCompleted, LessonReached, VideoWatched
from app.learning.models import Enrollment, LessonProgress

COMPLETION = "completion"
COHORT = "completion_cohort"


def _is_timed_video(lesson: Lesson) -> bool:
    return lesson.kind == "video" and (lesson.duration_seconds or 0) > 0


# ---- subscribers -----------------------------------------------------------------------------

@subscribe(EnrollmentCreated)
def count_enrollment(event: EnrollmentCreated) -> None:
    enrollment = db.session.get(Enrollment, event.enrollment_id)
    if enrollment is None:
        return
    rollups.bump(CourseDay, course_key(enrollment.course, rollups.day_of(enrollment.enrolled_at)), enrollments=1)
    live.figures_changed(enrollment.course.creator_id)


@subscribe(CourseCompleted)
def count_completion(event: CourseCompleted) -> None:
    enrollment = db.session.get(Enrollment, event.enrollment_id)
    if enrollment is None or enrollment.completed_at is None:
        return
    course, done = enrollment.course, rollups.day_of(enrollment.completed_at)
    hours = rollups.hours_between(enrollment.enrolled_at, enrollment.completed_at)
    rollups.bump(CourseDay, course_key(course, done), completions=1)
    bump_duration(COMPLETION, course.id, done, hours)
    bump_duration(COHORT, course.id, rollups.day_of(enrollment.enrolled_at), hours)
    live.figures_changed(course.creator_id)


def _bump_reach(lesson_id: int, **deltas: int) -> None:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        return
    if deltas.pop("reached", 0):
        deltas.update(reached=1, watched_count=int(_is_timed_video(lesson)))
    rollups.bump(LessonReach, {"lesson_id": lesson.id, "course_id": lesson.course_id}, **deltas)
    live.figures_changed(lesson.course.creator_id)


@subscribe(LessonReached)
def count_lesson_reached(event: LessonReached) -> None:
    _bump_reach(event.lesson_id, reached=1)


@subscribe(LessonCompleted)
def count_lesson_completed(event: LessonCompleted) -> None:
    _bump_reach(event.lesson_id, completed=1)


@subscribe(VideoWatched)
def count_video_watched(event: VideoWatched) -> None:
    _bump_reach(event.lesson_id, watched_permille_sum=event.permille_after - event.permille_before)


# ---- rebuild ---------------------------------------------------------------------------------

def rebuild(start: date, end: date) -> None:
    """Recompute enrolments, completions and their durations for start..end; LessonReach of
    every course whose progress rows changed in that range (an all-time figure, recomputed
    whole per course); then the quiz, review and Q&A figures (engagement.rebuild)."""
    _rebuild_enrollments(start, end)
    since, until = rollups.day_bounds(start, end)
    rebuild_reach(db.session.scalars(
        sa.select(Lesson.course_id).distinct().join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(LessonProgress.updated_at >= since, LessonProgress.updated_at < until)))
    engagement.rebuild(start, end)


def _rebuild_enrollments(start: date, end: date) -> None:
    rollups.reset(CourseDay, ["enrollments", "completions"], start, end)
    reset_durations([COMPLETION, COHORT], start, end)
    since, until = rollups.day_bounds(start, end)
    counts: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for course_id, enrolled_at in db.session.execute(
            sa.select(Enrollment.course_id, Enrollment.enrolled_at)
            .where(Enrollment.enrolled_at >= since, Enrollment.enrolled_at < until)):
        counts[(course_id, rollups.day_of(enrolled_at))]["enrollments"] += 1
    durations: dict[tuple[int, date, int], int] = defaultdict(int)
    for course_id, enrolled_at, completed_at in db.session.execute(
            sa.select(Enrollment.course_id, Enrollment.enrolled_at, Enrollment.completed_at)
            .where(Enrollment.completed_at >= since, Enrollment.completed_at < until)):
        day = rollups.day_of(completed_at)
        counts[(course_id, day)]["completions"] += 1
        durations[(course_id, day, rollups.hours_between(enrolled_at, completed_at))] += 1
    cohort: dict[tuple[int, date, int], int] = defaultdict(int)
    for course_id, enrolled_at, completed_at in db.session.execute(
            sa.select(Enrollment.course_id, Enrollment.enrolled_at, Enrollment.completed_at)
            .where(Enrollment.enrolled_at >= since, Enrollment.enrolled_at < until,
                   Enrollment.completed_at.is_not(None))):
        cohort[(course_id, rollups.day_of(enrolled_at), rollups.hours_between(enrolled_at, completed_at))] += 1
    bump_course_days(counts)
    bump_durations(COMPLETION, durations)
    bump_durations(COHORT, cohort)


def rebuild_reach(course_ids) -> None:
    """Recompute LessonReach of these courses from their lesson_progress rows (GROUP BY)."""
    ids = sorted(set(course_ids))
    if not ids:
        return
    db.session.execute(sa.delete(LessonReach).where(LessonReach.course_id.in_(ids)))
    timed = sa.and_(Lesson.kind == "video", Lesson.duration_seconds > 0)
    share = sa.case((LessonProgress.watched_seconds >= Lesson.duration_seconds, 1000),
                    else_=LessonProgress.watched_seconds * 1000 // Lesson.duration_seconds)
    rows = db.session.execute(
        sa.select(Lesson.id, Lesson.course_id, sa.func.count(LessonProgress.id),
                  sa.func.count(LessonProgress.completed_at),
                  sa.func.sum(sa.case((timed, share), else_=0)),
                  sa.func.sum(sa.case((timed, 1), else_=0)))
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(Lesson.course_id.in_(ids)).group_by(Lesson.id, Lesson.course_id))
    for lesson_id, course_id, reached, completed, permille, watched in rows:
        rollups.bump(LessonReach, {"lesson_id": lesson_id, "course_id": course_id}, reached=reached,
                     completed=completed, watched_permille_sum=permille or 0, watched_count=watched or 0)


# ---- the learners section --------------------------------------------------------------------

@dataclass
class LearnerFigures:
    enrollments: int
    previous_enrollments: int
    completions: int
    previous_completions: int
    cohort_completed: int  # of the period's enrolments, how many have completed by now
    previous_cohort_completed: int
    median_hours: float | None
    previous_median_hours: float | None
    active_7: int
    active_30: int
    buckets: list[date] = field(default_factory=list)
    enrollments_per_bucket: list[int] = field(default_factory=list)
    completions_per_bucket: list[int] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        return percent(self.cohort_completed, self.enrollments)

    @property
    def previous_completion_rate(self) -> float | None:
        return percent(self.previous_cohort_completed, self.previous_enrollments)


def active_learners(scope: Scope, now: datetime, *days: int) -> list[int]:
    """For each number of `days`, the learners (still enrolled) with any activity in the scope's
    courses in the last that many days, each counted once: one pass over the longest window
    through ix_enrollment_course_activity (course_id, last_activity_at)."""
    since = {span: now - timedelta(days=span) for span in days}
    counts = db.session.execute(
        sa.select(*[sa.func.count(sa.distinct(Enrollment.learner_id)).filter(Enrollment.last_activity_at >= at)
                    for at in since.values()])
        .where(in_scope(Enrollment.course_id, scope), Enrollment.last_activity_at >= min(since.values()),
               Enrollment.revoked_at.is_(None))).one()
    return [int(count or 0) for count in counts]


def learner_figures(scope: Scope, period: Period, grain: str, now: datetime) -> LearnerFigures:
    columns = ["enrollments", "completions"]
    previous = period.previous()
    daily = daily_sums(CourseDay, scope, period, columns)
    current, before = totals(daily, columns), totals(daily_sums(CourseDay, scope, previous, columns), columns)
    active_7, active_30 = active_learners(scope, now, 7, 30)
    return LearnerFigures(
        enrollments=current["enrollments"], previous_enrollments=before["enrollments"],
        completions=current["completions"], previous_completions=before["completions"],
        cohort_completed=sum(duration_counts(COHORT, scope, period).values()),
        previous_cohort_completed=sum(duration_counts(COHORT, scope, previous).values()),
        median_hours=median_hours(duration_counts(COMPLETION, scope, period)),
        previous_median_hours=median_hours(duration_counts(COMPLETION, scope, previous)),
        active_7=active_7, active_30=active_30,
        buckets=buckets(period, grain),
        enrollments_per_bucket=per_bucket(daily, period, grain, "enrollments"),
        completions_per_bucket=per_bucket(daily, period, grain, "completions"))


# ---- lesson drop-off -------------------------------------------------------------------------

@dataclass
class LessonFigures:
    lesson_id: int
    title: str
    kind: str
    reached: int
    completed: int
    reach_percent: float | None
    completed_percent: float | None
    watched_percent: float | None  # videos of known duration with reachers; else None ("—")


@dataclass
class Dropoff:
    """One course's lessons in syllabus order, and where most learners stop."""

    course_id: int
    course_title: str
    enrolled: int  # every enrolment since the course began
    lessons: list[LessonFigures]
    stop_after: LessonFigures | None = None  # the lesson after which reach falls the most
    stop_before_first: bool = False  # the biggest fall is between enrolling and the first lesson
    next_lesson: LessonFigures | None = None
    drop: int = 0  # learners lost at that point

    @property
    def drop_percent(self) -> float | None:
        return percent(self.drop, self.enrolled)


def _dropoff(course_id: int, title: str, enrolled: int, lessons: list, reach: dict) -> Dropoff:
    """`lessons`: rows of (id, course_id, title, kind, duration_seconds) in syllabus order;
    `reach`: LessonReach rows by lesson id."""
    rows = []
    for lesson in lessons:
        found = reach.get(lesson.id)
        reached, completed = (found.reached, found.completed) if found else (0, 0)
        watched = None
        if _is_timed_video(lesson) and found is not None and found.watched_count:
            watched = round(found.watched_permille_sum / found.watched_count / 10, 1)
        rows.append(LessonFigures(lesson.id, lesson.title, lesson.kind, reached, completed,
                                  percent(min(reached, enrolled), enrolled),
                                  percent(min(completed, enrolled), enrolled), watched))
    result = Dropoff(course_id, title, enrolled, rows)
    if rows and enrolled - rows[0].reached > 0:
        result.stop_before_first, result.next_lesson, result.drop = True, rows[0], enrolled - rows[0].reached
    for here, after in zip(rows, rows[1:], strict=False):
        if here.reached - after.reached > result.drop:
            result.stop_before_first = False
            result.stop_after, result.next_lesson, result.drop = here, after, here.reached - after.reached
    return result


def _all_time_enrollments(scope: Scope) -> dict[int, int]:
    return {course_id: int(total) for course_id, total in db.session.execute(
        sa.select(CourseDay.course_id, sa.func.sum(CourseDay.enrollments))
        .where(scope.filter(CourseDay)).group_by(CourseDay.course_id))}


def _courses_of(scope: Scope):
    if scope.course_id is not None:
        return Course.id == scope.course_id
    return Course.creator_id == scope.creator_id if scope.creator_id is not None else sa.true()


COURSES_SHOWN = 10  # on a page of several courses: those with the most learners


def lesson_dropoff(scope: Scope) -> list[Dropoff]:
    """For a course: that course's drop-off (one item). For a creator: their COURSES_SHOWN
    courses with the most enrolments (with lessons), most first. All-time figures."""
    enrolled = _all_time_enrollments(scope)
    courses = db.session.execute(
        sa.select(Course.id, Course.title).where(_courses_of(scope)).order_by(Course.title, Course.id)).all()
    if scope.course_id is None:
        courses = sorted(courses, key=lambda course: -enrolled.get(course.id, 0))[:COURSES_SHOWN]
    shown = [course_id for course_id, _title in courses]
    reach = {row.lesson_id: row for row in db.session.execute(
        sa.select(LessonReach.lesson_id, LessonReach.reached, LessonReach.completed,
                  LessonReach.watched_permille_sum, LessonReach.watched_count)
        .where(LessonReach.course_id.in_(shown)))}
    lessons_of: dict[int, list] = defaultdict(list)
    for lesson in db.session.execute(  # the columns shown, not whole lessons (their bodies can be long)
            sa.select(Lesson.id, Lesson.course_id, Lesson.title, Lesson.kind, Lesson.duration_seconds)
            .join(Section, Section.id == Lesson.section_id)
            .where(Lesson.course_id.in_(shown)).order_by(Section.position, Lesson.position, Lesson.id)):
        lessons_of[lesson.course_id].append(lesson)
    return [_dropoff(course_id, title, enrolled.get(course_id, 0), lessons_of[course_id], reach)
            for course_id, title in courses if lessons_of[course_id]]
