"""Quizzes, reviews and Q&A, rolled up per course (issue 17, part 1), and the helpers that the
learner figures (learners.py) share with them.

- QuizStats / QuestionStats (all-time): bumped on each submitted attempt.
- CourseDay.reviews / rating_sum on the day the review was written (a change of stars moves
  rating_sum by the difference on that same day; a removed review takes its count and stars back).
- CourseDay.questions on the day a question was asked; first_answers and DurationDay
  `first_answer` on the day of the first post by someone other than the asker (a reply deleted
  later still answered the question then).

Pages read these rollups, plus one current count through an index: the open questions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.analytics import live, rollups
from app.analytics.models import CourseDay, DurationDay, QuestionStats, QuizStats
from app.analytics.periods import Period, buckets
from app.analytics.scope import Scope, daily_sums, per_bucket, totals
from app.analytics.tables import Column, Table
from app.catalog.models import Course, Lesson, Quiz, QuizOption, QuizQuestion, Section
from app.events import subscribe
from app.extensions import db
from app.learning.discussions import answered_condition
from app.learning.events import (
    QuestionAnswered,
    QuestionAsked,
    QuizAttempted,
    ReviewDeleted,
    ReviewRerated,
    ReviewWritten,
)
from app.learning.models import Post, QuizAttempt, Review, Thread

FIRST_ANSWER = "first_answer"
MIN_ANSWERS = 5  # a question answered fewer times than this is not ranked among the hardest
HARDEST_SHOWN = 10


# ---- shared helpers (learners.py uses them too) ----------------------------------------------

def course_key(course: Course, day: date) -> dict:
    """The CourseDay key of a course's day, with what a new row needs."""
    return {"course_id": course.id, "day": day, "creator_id": course.creator_id,
            "currency": course.currency}


def courses_by_id(course_ids) -> dict[int, Course]:
    ids = set(course_ids)
    if not ids:
        return {}
    return {course.id: course for course in db.session.scalars(sa.select(Course).where(Course.id.in_(ids)))}


def bump_course_days(model_counts: dict[tuple[int, date], dict[str, int]]) -> None:
    """Bump CourseDay rows from {(course_id, day): {column: delta}}."""
    courses = courses_by_id(course_id for course_id, _ in model_counts)
    for (course_id, day), deltas in model_counts.items():
        if course_id in courses:
            rollups.bump(CourseDay, course_key(courses[course_id], day), **deltas)


def bump_durations(metric: str, counts: dict[tuple[int, date, int], int]) -> None:
    """Bump DurationDay rows of `metric` from {(course_id, day, hours): count}."""
    for (course_id, day, hours), count in counts.items():
        rollups.bump(DurationDay, {"metric": metric, "scope_id": course_id, "day": day, "hours": hours},
                     count=count)


def bump_duration(metric: str, course_id: int, day: date, hours: int) -> None:
    rollups.bump(DurationDay, {"metric": metric, "scope_id": course_id, "day": day, "hours": hours}, count=1)


def reset_durations(metrics: list[str], start: date, end: date) -> None:
    """Zero the counts of these DurationDay metrics (only these: other parts own other metrics)."""
    rollups.reset(DurationDay, ["count"], start, end, DurationDay.metric.in_(metrics))


def scope_course_ids(scope: Scope):
    """The scope's course ids as a SELECT (None: every course, the platform)."""
    if scope.course_id is not None:
        return sa.select(sa.literal(scope.course_id))
    if scope.creator_id is not None:
        return sa.select(Course.id).where(Course.creator_id == scope.creator_id)
    return None


def in_scope(column, scope: Scope):
    """WHERE `column` (a course id) belongs to the scope."""
    if scope.course_id is not None:
        return column == scope.course_id
    ids = scope_course_ids(scope)
    return sa.true() if ids is None else column.in_(ids)


def duration_counts(metric: str, scope: Scope, period: Period) -> dict[int, int]:
    """{hours: count} of a DurationDay metric over the scope's courses and the period."""
    rows = db.session.execute(
        sa.select(DurationDay.hours, sa.func.sum(DurationDay.count))
        .where(DurationDay.metric == metric, in_scope(DurationDay.scope_id, scope),
               DurationDay.day >= period.start, DurationDay.day <= period.end)
        .group_by(DurationDay.hours))
    return {int(hours): int(count) for hours, count in rows if count}


def median_hours(counts: dict[int, int]) -> float | None:
    """The median of whole-hour buckets (the mean of the two middle values for an even count);
    None when there is nothing."""
    total = sum(counts.values())
    if total == 0:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based positions of the middle value(s)
    found: list[int] = []
    seen = 0
    for hours in sorted(counts):
        seen += counts[hours]
        while wanted and wanted[0] < seen:
            found.append(hours)
            wanted.pop(0)
    return sum(found) / len(found)


def percent(part: int, whole: int) -> float | None:
    """part / whole as a percentage (None when whole is 0: the page shows "—")."""
    return None if not whole else round(part * 100 / whole, 1)


# ---- quizzes ---------------------------------------------------------------------------------

def correct_options(question_ids) -> dict[int, frozenset[int]]:
    """{question id: its correct option ids} (today's options: a question edited later is
    graded by a rebuild as it now stands)."""
    ids = list(set(question_ids))
    found: dict[int, set[int]] = {question_id: set() for question_id in ids}
    if ids:
        for question_id, option_id in db.session.execute(
                sa.select(QuizOption.question_id, QuizOption.id)
                .where(QuizOption.question_id.in_(ids), QuizOption.is_correct.is_(True))):
            found[question_id].add(option_id)
    return {question_id: frozenset(options) for question_id, options in found.items()}


def question_results(answers: dict, correct: dict[int, frozenset[int]]) -> list[tuple[int, bool]]:
    """(question id, answered right) for each answer of an attempt to a question that still exists;
    right means exactly the correct options, as `attempts.grade` counts it."""
    results = []
    for key, chosen in (answers or {}).items():
        question_id = int(key)
        if question_id in correct:
            results.append((question_id, frozenset(int(option) for option in chosen) == correct[question_id]))
    return results


@subscribe(QuizAttempted)
def count_quiz_attempt(event: QuizAttempted) -> None:
    attempt = db.session.get(QuizAttempt, event.attempt_id)
    if attempt is None:
        return
    quiz = db.session.get(Quiz, attempt.quiz_id)
    if quiz is None:
        return
    course = quiz.lesson.course
    rollups.bump(QuizStats, {"quiz_id": quiz.id, "course_id": course.id}, attempts=1, passed=int(attempt.passed))
    question_ids = db.session.scalars(sa.select(QuizQuestion.id).where(QuizQuestion.quiz_id == quiz.id))
    for question_id, right in question_results(attempt.answers, correct_options(question_ids)):
        rollups.bump(QuestionStats, {"question_id": question_id, "quiz_id": quiz.id, "course_id": course.id},
                     answered=1, correct=int(right))
    live.figures_changed(course.creator_id)


def rebuild_quizzes(quiz_ids) -> None:
    """Recompute QuizStats and QuestionStats of these quizzes from every attempt at them."""
    ids = sorted(set(quiz_ids))
    if not ids:
        return
    db.session.execute(sa.delete(QuestionStats).where(QuestionStats.quiz_id.in_(ids)))
    db.session.execute(sa.delete(QuizStats).where(QuizStats.quiz_id.in_(ids)))
    course_of = dict(db.session.execute(sa.select(Quiz.id, Lesson.course_id)
                                        .join(Lesson, Lesson.id == Quiz.lesson_id).where(Quiz.id.in_(ids))).all())
    questions = dict(db.session.execute(sa.select(QuizQuestion.id, QuizQuestion.quiz_id)
                                        .where(QuizQuestion.quiz_id.in_(ids))).all())
    by_quiz: dict[int, dict[int, frozenset[int]]] = defaultdict(dict)
    for question_id, options in correct_options(questions).items():
        by_quiz[questions[question_id]][question_id] = options
    quiz_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    question_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for quiz_id, passed, answers in db.session.execute(
            sa.select(QuizAttempt.quiz_id, QuizAttempt.passed, QuizAttempt.answers)
            .where(QuizAttempt.quiz_id.in_(ids)).execution_options(yield_per=2000)):
        quiz_counts[quiz_id][0] += 1
        quiz_counts[quiz_id][1] += int(bool(passed))
        for question_id, right in question_results(answers, by_quiz.get(quiz_id, {})):
            question_counts[question_id][0] += 1
            question_counts[question_id][1] += int(right)
    for quiz_id, (attempts, passed) in quiz_counts.items():
        if quiz_id in course_of:
            rollups.bump(QuizStats, {"quiz_id": quiz_id, "course_id": course_of[quiz_id]},
                         attempts=attempts, passed=passed)
    for question_id, (answered, right) in question_counts.items():
        quiz_id = questions[question_id]
        if quiz_id in course_of:
            rollups.bump(QuestionStats, {"question_id": question_id, "quiz_id": quiz_id,
                                         "course_id": course_of[quiz_id]}, answered=answered, correct=right)


def _scope_join(stmt, scope: Scope):
    if scope.course_id is not None:
        return stmt.where(Lesson.course_id == scope.course_id)
    if scope.creator_id is not None:
        return stmt.where(Course.creator_id == scope.creator_id)
    return stmt


QUIZZES_SHOWN = 20  # on a page of several courses


def quiz_table(scope: Scope) -> Table:
    """Every quiz of the scope with its attempts and pass rate (since the course began)."""
    stmt = (sa.select(Quiz.id, Lesson.title, Course.id, Course.title, QuizStats.attempts, QuizStats.passed)
            .join(Lesson, Lesson.id == Quiz.lesson_id).join(Section, Section.id == Lesson.section_id)
            .join(Course, Course.id == Lesson.course_id)
            .outerjoin(QuizStats, QuizStats.quiz_id == Quiz.id)
            .order_by(Course.title, Course.id, Section.position, Lesson.position, Quiz.id))
    many = scope.course_id is None
    if many:  # several courses: the most attempted quizzes, not every one of them
        stmt = stmt.order_by(None).order_by(sa.func.coalesce(QuizStats.attempts, 0).desc(), Course.title,
                                            Quiz.id).limit(QUIZZES_SHOWN)
    columns = [Column("Quiz", "text")] + ([Column("Course", "text")] if many else []) + [
        Column("Attempts"), Column("Passed"), Column("Pass rate", "percent")]
    rows = []
    for _quiz, lesson_title, _course, course_title, attempts, passed in db.session.execute(_scope_join(stmt, scope)):
        attempts, passed = attempts or 0, passed or 0
        rows.append([lesson_title] + ([course_title] if many else []) + [attempts, passed, percent(passed, attempts)])
    return Table("quiz-pass-rates", "Pass rate per quiz", columns, rows,
                 caption=("Every attempt counts, retries included, since the course began. "
                          "Pass rate is attempts passed out of all attempts."
                          + (f" The {QUIZZES_SHOWN} quizzes with the most attempts; open a course for all of "
                             "its quizzes." if many else "")),
                 empty="No quizzes yet.")


def hardest_questions(scope: Scope, *, min_answers: int = MIN_ANSWERS, limit: int = HARDEST_SHOWN) -> Table:
    """The questions answered right least often (answered at least `min_answers` times)."""
    share = (QuestionStats.correct * 1000) // QuestionStats.answered
    stmt = (sa.select(QuizQuestion.prompt, Lesson.title, Course.title, QuestionStats.answered, QuestionStats.correct)
            .join(QuizQuestion, QuizQuestion.id == QuestionStats.question_id)
            .join(Quiz, Quiz.id == QuestionStats.quiz_id).join(Lesson, Lesson.id == Quiz.lesson_id)
            .join(Course, Course.id == Lesson.course_id)
            .where(QuestionStats.answered >= min_answers, in_scope(QuestionStats.course_id, scope))
            .order_by(share, QuestionStats.answered.desc(), QuestionStats.question_id).limit(limit))
    many = scope.course_id is None
    columns = [Column("Question", "text"), Column("Quiz", "text")] + ([Column("Course", "text")] if many else []) + [
        Column("Answers"), Column("Answered right", "percent")]
    rows = [[prompt, lesson_title] + ([course_title] if many else []) + [answered, percent(correct, answered)]
            for prompt, lesson_title, course_title, answered, correct in db.session.execute(stmt)]
    return Table("hardest-questions", "Hardest questions", columns, rows,
                 caption=f"The questions learners get right least often, among those answered at least "
                         f"{min_answers} times, since the course began. Right means every correct option "
                         f"and no other.",
                 empty=f"No question has been answered {min_answers} times yet.")


@dataclass
class QuizFigures:
    quizzes: Table
    hardest: Table


def quiz_figures(scope: Scope) -> QuizFigures:
    return QuizFigures(quiz_table(scope), hardest_questions(scope))


# ---- reviews ---------------------------------------------------------------------------------

def _bump_review(course_id: int, written_at: datetime, **deltas: int) -> None:
    course = db.session.get(Course, course_id)
    if course is None:
        return
    rollups.bump(CourseDay, course_key(course, rollups.day_of(written_at)), **deltas)
    live.figures_changed(course.creator_id)


@subscribe(ReviewWritten)
def count_review(event: ReviewWritten) -> None:
    _bump_review(event.course_id, event.written_at, reviews=1, rating_sum=event.rating)


@subscribe(ReviewRerated)
def move_review_rating(event: ReviewRerated) -> None:
    _bump_review(event.course_id, event.written_at, rating_sum=event.new_rating - event.old_rating)


@subscribe(ReviewDeleted)
def uncount_review(event: ReviewDeleted) -> None:
    _bump_review(event.course_id, event.written_at, reviews=-1, rating_sum=-event.rating)


# ---- questions and answers -------------------------------------------------------------------

@subscribe(QuestionAsked)
def count_question(event: QuestionAsked) -> None:
    thread = db.session.get(Thread, event.thread_id)
    if thread is None:
        return
    rollups.bump(CourseDay, course_key(thread.course, rollups.day_of(thread.created_at)), questions=1)
    live.figures_changed(thread.course.creator_id)


@subscribe(QuestionAnswered)
def count_first_answer(event: QuestionAnswered) -> None:
    thread, post = db.session.get(Thread, event.thread_id), db.session.get(Post, event.post_id)
    if thread is None or post is None:
        return
    day = rollups.day_of(post.created_at)
    rollups.bump(CourseDay, course_key(thread.course, day), first_answers=1)
    bump_duration(FIRST_ANSWER, thread.course_id, day, rollups.hours_between(thread.created_at, post.created_at))
    live.figures_changed(thread.course.creator_id)


def open_questions(scope: Scope) -> int:
    """Questions (not deleted) that nobody but their asker has replied to, now."""
    return db.session.scalar(
        sa.select(sa.func.count(Thread.id))
        .where(in_scope(Thread.course_id, scope), Thread.deleted_at.is_(None),
               ~answered_condition(Thread, visible_only=True))) or 0


# ---- rebuild ---------------------------------------------------------------------------------

REVIEW_COLUMNS = ["reviews", "rating_sum", "questions", "first_answers"]


def rebuild(start: date, end: date) -> None:
    """Recompute reviews, questions and first answers of start..end, and the quiz figures of
    every quiz attempted in that range (all-time figures: recomputed whole)."""
    rollups.reset(CourseDay, REVIEW_COLUMNS, start, end)
    reset_durations([FIRST_ANSWER], start, end)
    since, until = rollups.day_bounds(start, end)
    counts: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for course_id, written_at, rating in db.session.execute(
            sa.select(Review.course_id, Review.created_at, Review.rating)
            .where(Review.created_at >= since, Review.created_at < until)):
        figures = counts[(course_id, rollups.day_of(written_at))]
        figures["reviews"] += 1
        figures["rating_sum"] += rating
    for course_id, asked_at in db.session.execute(
            sa.select(Thread.course_id, Thread.created_at)
            .where(Thread.created_at >= since, Thread.created_at < until)):
        counts[(course_id, rollups.day_of(asked_at))]["questions"] += 1
    first_post = sa.func.min(Post.created_at)
    durations: dict[tuple[int, date, int], int] = defaultdict(int)
    for course_id, asked_at, answered_at in db.session.execute(
            sa.select(Thread.course_id, Thread.created_at, first_post)
            .join(Post, sa.and_(Post.thread_id == Thread.id, Post.author_id.is_not(None),
                                sa.or_(Thread.author_id.is_(None), Post.author_id != Thread.author_id)))
            .group_by(Thread.id, Thread.course_id, Thread.created_at)
            .having(sa.and_(first_post >= since, first_post < until))):
        day = rollups.day_of(answered_at)
        counts[(course_id, day)]["first_answers"] += 1
        durations[(course_id, day, rollups.hours_between(asked_at, answered_at))] += 1
    bump_course_days(counts)
    bump_durations(FIRST_ANSWER, durations)
    rebuild_quizzes(db.session.scalars(sa.select(QuizAttempt.quiz_id).distinct()
                                       .where(QuizAttempt.created_at >= since, QuizAttempt.created_at < until)))


# ---- the reviews and Q&A section -------------------------------------------------------------

@dataclass
class ReviewFigures:
    reviews: int
    previous_reviews: int
    rating_sum: int
    previous_rating_sum: int
    questions: int
    previous_questions: int
    first_answers: int
    open_questions: int
    answer_hours: float | None
    previous_answer_hours: float | None
    buckets: list[date]
    reviews_per_bucket: list[int]
    average_per_bucket: list[float | None]

    @property
    def average(self) -> float | None:
        return round(self.rating_sum / self.reviews, 2) if self.reviews else None

    @property
    def previous_average(self) -> float | None:
        return round(self.previous_rating_sum / self.previous_reviews, 2) if self.previous_reviews else None


def review_figures(scope: Scope, period: Period, grain: str) -> ReviewFigures:
    columns = ["reviews", "rating_sum", "questions", "first_answers"]
    daily = daily_sums(CourseDay, scope, period, columns)
    now, before = totals(daily, columns), totals(daily_sums(CourseDay, scope, period.previous(), columns), columns)
    counts, sums = per_bucket(daily, period, grain, "reviews"), per_bucket(daily, period, grain, "rating_sum")
    return ReviewFigures(
        reviews=now["reviews"], previous_reviews=before["reviews"],
        rating_sum=now["rating_sum"], previous_rating_sum=before["rating_sum"],
        questions=now["questions"], previous_questions=before["questions"], first_answers=now["first_answers"],
        open_questions=open_questions(scope),
        answer_hours=median_hours(duration_counts(FIRST_ANSWER, scope, period)),
        previous_answer_hours=median_hours(duration_counts(FIRST_ANSWER, scope, period.previous())),
        buckets=buckets(period, grain), reviews_per_bucket=counts,
        average_per_bucket=[round(total / count, 2) if count else None
                            for total, count in zip(sums, counts, strict=True)])
