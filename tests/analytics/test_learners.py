"""Learner rollups (issue 17, part 1): enrolments, completions, lesson reach, video share
watched, quizzes, reviews and Q&A are counted on the day of their source fact by the
subscribers, and a rebuild from the source tables gives the same figures."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.analytics import engagement, learners
from app.analytics.models import CourseDay, DurationDay, LessonReach, QuestionStats, QuizStats
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.dbtypes import utcnow
from app.extensions import db
from app.learning import attempts, discussions, enrollment, progress, reviews
from app.learning.models import LessonProgress
from tests.support.learning import named, right_answers, wrong_answers
from tests.support.player import learning_course, lesson

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEARNER_COLUMNS = ["enrollments", "completions", "reviews", "rating_sum", "questions", "first_answers"]
METRICS = [learners.COMPLETION, learners.COHORT, engagement.FIRST_ANSWER]


@pytest.fixture
def course(db, creator, admin):
    return learning_course(creator, admin)


def enroll(user, course, when):
    found = enrollment.enroll(user, course, source="free", now=when)
    db.session.commit()
    return found


def day_row(course, day) -> dict[str, int]:
    row = db.session.get(CourseDay, (course.id, day))
    return {name: getattr(row, name) for name in LEARNER_COLUMNS} if row else dict.fromkeys(LEARNER_COLUMNS, 0)


def durations(metric, course) -> dict[tuple[date, int], int]:
    return {(row.day, row.hours): row.count for row in db.session.scalars(
        sa.select(DurationDay).where(DurationDay.metric == metric, DurationDay.scope_id == course.id)) if row.count}


def reach(course, title) -> tuple[int, int, int, int]:
    row = db.session.get(LessonReach, lesson(course, title).id)
    return (row.reached, row.completed, row.watched_permille_sum, row.watched_count) if row else (0, 0, 0, 0)


def open_lesson(user, course, title, when):
    access = progress.access_lesson(user, course.id, lesson(course, title).id)
    progress.open_lesson(user, access, now=when)
    db.session.commit()


def finish(user, course, when):
    for item in sorted(course.lessons, key=lambda lsn: (lsn.section.position, lsn.position)):
        if item.kind == "quiz":
            attempts.submit_quiz(user, item, right_answers(item), now=when)
        else:
            progress.complete_lesson(user, item, now=when)
    db.session.commit()


def test_an_enrolment_counts_on_the_day_it_was_made(course, learner):
    enroll(learner, course, MONDAY)
    assert day_row(course, MONDAY.date())["enrollments"] == 1
    assert day_row(course, utcnow().date())["enrollments"] == 0


def test_a_completion_counts_on_its_day_with_its_duration_and_its_enrolment_cohort(course, learner):
    enroll(learner, course, MONDAY)
    finish(learner, course, MONDAY + timedelta(days=2, hours=5))
    done = (MONDAY + timedelta(days=2)).date()
    assert day_row(course, done)["completions"] == 1
    assert durations(learners.COMPLETION, course) == {(done, 53): 1}
    assert durations(learners.COHORT, course) == {(MONDAY.date(), 53): 1}


def test_a_lesson_is_reached_once_per_enrolment_and_completed_once(course, learner, classmate, emitted):
    enroll(learner, course, MONDAY)
    enroll(classmate, course, MONDAY)
    open_lesson(learner, course, "Course notes", MONDAY)
    open_lesson(learner, course, "Course notes", MONDAY + timedelta(hours=1))
    open_lesson(classmate, course, "Course notes", MONDAY)
    progress.complete_lesson(learner, lesson(course, "Course notes"), now=MONDAY)
    progress.complete_lesson(learner, lesson(course, "Course notes"), now=MONDAY)
    db.session.commit()
    assert reach(course, "Course notes") == (2, 1, 0, 0)
    assert len(named(emitted, "learning.lesson.reached")) == 2
    assert len(named(emitted, "learning.lesson.completed")) == 1


def test_completing_a_lesson_never_opened_reaches_it_too(course, learner):
    enroll(learner, course, MONDAY)
    progress.complete_lesson(learner, lesson(course, "Wrap-up"), now=MONDAY)
    db.session.commit()
    assert reach(course, "Wrap-up") == (1, 1, 0, 0)


def test_the_share_of_a_video_watched_only_moves_forward_and_stops_at_its_length(course, learner, emitted):
    video = lesson(course, "Welcome video")  # 120 seconds long
    enroll(learner, course, MONDAY)
    for seconds in (30, 20, 30, 90, 5000):
        progress.save_position(learner, video, seconds, now=MONDAY)
        db.session.commit()
    row = db.session.scalar(sa.select(LessonProgress).where(LessonProgress.lesson_id == video.id))
    assert row.watched_seconds == 120 and row.position_seconds == 5000
    assert [(e["permille_before"], e["permille_after"]) for e in named(emitted, "learning.video.watched")] == [
        (0, 250), (250, 750), (750, 1000)]
    assert reach(course, "Welcome video") == (1, 0, 1000, 1)


def test_a_video_of_unknown_length_keeps_its_furthest_point_but_no_share(course, learner, emitted):
    video = lesson(course, "Welcome video")
    video.duration_seconds = 0
    db.session.commit()
    enroll(learner, course, MONDAY)
    progress.save_position(learner, video, 45, now=MONDAY)
    db.session.commit()
    assert db.session.scalar(sa.select(LessonProgress.watched_seconds).where(LessonProgress.lesson_id == video.id)) == 45
    assert named(emitted, "learning.video.watched") == []
    assert reach(course, "Welcome video") == (1, 0, 0, 0)


def test_each_quiz_attempt_counts_and_each_question_counts_right_or_wrong(course, learner):
    quiz_lesson = lesson(course, "Check yourself")
    enroll(learner, course, MONDAY)
    attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson), now=MONDAY)
    half = right_answers(quiz_lesson)
    first, second = [q.id for q in quiz_lesson.quiz.questions]
    half[second] = wrong_answers(quiz_lesson)[second]
    attempts.submit_quiz(learner, quiz_lesson, half, now=MONDAY)
    attempts.submit_quiz(learner, quiz_lesson, right_answers(quiz_lesson), now=MONDAY)
    db.session.commit()
    stats = db.session.get(QuizStats, quiz_lesson.quiz.id)
    assert (stats.attempts, stats.passed) == (3, 1)
    answered = {row.question_id: (row.answered, row.correct) for row in db.session.scalars(sa.select(QuestionStats))}
    assert answered == {first: (3, 2), second: (3, 1)}


def test_reviews_count_on_the_day_written_and_edits_move_only_the_stars(course, learner):
    enroll(learner, course, MONDAY)
    reviews.write_review(learner, course, rating=4, now=MONDAY)
    db.session.commit()
    assert day_row(course, MONDAY.date())["reviews"] == 1
    reviews.write_review(learner, course, rating=2, body="Changed my mind", now=MONDAY + timedelta(days=3))
    db.session.commit()
    assert (day_row(course, MONDAY.date())["reviews"], day_row(course, MONDAY.date())["rating_sum"]) == (1, 2)
    reviews.delete_review(learner, course)
    db.session.commit()
    assert (day_row(course, MONDAY.date())["reviews"], day_row(course, MONDAY.date())["rating_sum"]) == (0, 0)


def test_a_question_is_answered_by_the_first_reply_from_someone_else(course, learner, classmate, creator):
    enroll(learner, course, MONDAY)
    enroll(classmate, course, MONDAY)
    thread = discussions.start_thread(learner, course, title="Small?", body="How small?", now=MONDAY)
    db.session.commit()
    scope = Scope(creator_id=creator.id, course_id=course.id)
    assert engagement.open_questions(scope) == 1
    discussions.reply(learner, thread, body="Anyone?", now=MONDAY + timedelta(hours=1))
    db.session.commit()
    assert day_row(course, MONDAY.date())["first_answers"] == 0 and engagement.open_questions(scope) == 1
    answer = discussions.reply(creator, thread, body="Tiny.", now=MONDAY + timedelta(days=1, hours=3))
    discussions.reply(classmate, thread, body="Agreed.", now=MONDAY + timedelta(days=2))
    db.session.commit()
    assert day_row(course, MONDAY.date())["questions"] == 1
    assert day_row(course, (MONDAY + timedelta(days=1)).date())["first_answers"] == 1
    assert durations(engagement.FIRST_ANSWER, course) == {((MONDAY + timedelta(days=1)).date(), 27): 1}
    assert engagement.open_questions(scope) == 0
    discussions.delete_post(creator, answer)
    discussions.delete_post(classmate, thread.posts[-1])
    db.session.commit()
    assert engagement.open_questions(scope) == 1  # nobody's visible reply: open again
    discussions.delete_post(learner, thread.posts[0])
    db.session.commit()
    assert engagement.open_questions(scope) == 0  # a deleted question is not open


def snapshot() -> dict:
    """Every non-zero figure of this part's rollups."""
    figures = {}
    for row in db.session.scalars(sa.select(CourseDay)):
        for name in LEARNER_COLUMNS:
            if getattr(row, name):
                figures[("day", row.course_id, row.day, name)] = getattr(row, name)
    for row in db.session.scalars(sa.select(DurationDay).where(DurationDay.metric.in_(METRICS))):
        if row.count:
            figures[(row.metric, row.scope_id, row.day, row.hours)] = row.count
    for row in db.session.scalars(sa.select(LessonReach)):
        figures[("reach", row.lesson_id)] = (row.course_id, row.reached, row.completed,
                                             row.watched_permille_sum, row.watched_count)
    for row in db.session.scalars(sa.select(QuizStats)):
        figures[("quiz", row.quiz_id)] = (row.course_id, row.attempts, row.passed)
    for row in db.session.scalars(sa.select(QuestionStats)):
        figures[("question", row.question_id)] = (row.quiz_id, row.course_id, row.answered, row.correct)
    return {key: value for key, value in figures.items() if value}


def busy_weeks(course, creator, people):
    """Two weeks of learning in `course` by `people`, backdated."""
    first, second, third = people
    enroll(first, course, MONDAY)
    enroll(second, course, MONDAY + timedelta(days=1))
    enroll(third, course, MONDAY + timedelta(days=8))
    finish(first, course, MONDAY + timedelta(days=4, hours=7))
    video = lesson(course, "Welcome video")
    progress.save_position(second, video, 60, now=MONDAY + timedelta(days=2))
    open_lesson(second, course, "Course notes", MONDAY + timedelta(days=2))
    quiz_lesson = lesson(course, "Check yourself")
    attempts.submit_quiz(third, quiz_lesson, wrong_answers(quiz_lesson), now=MONDAY + timedelta(days=9))
    reviews.write_review(first, course, rating=5, now=MONDAY + timedelta(days=5))
    reviews.write_review(second, course, rating=3, now=MONDAY + timedelta(days=6))
    reviews.write_review(second, course, rating=4, now=MONDAY + timedelta(days=10))
    thread = discussions.start_thread(second, course, title="Why?", body="Why so?", now=MONDAY + timedelta(days=3))
    discussions.start_thread(third, course, title="When?", body="When so?", now=MONDAY + timedelta(days=9))
    discussions.reply(first, thread, body="Because.", now=MONDAY + timedelta(days=3, hours=20))
    db.session.commit()


def test_a_rebuild_gives_the_figures_the_subscribers_counted(course, creator, learner, classmate, stranger):
    busy_weeks(course, creator, (learner, classmate, stranger))
    counted = snapshot()
    assert counted  # the subscribers counted something
    db.session.execute(sa.delete(LessonReach))
    db.session.execute(sa.delete(QuizStats))
    db.session.execute(sa.update(CourseDay).values(dict.fromkeys(LEARNER_COLUMNS, 7)))
    db.session.execute(sa.update(DurationDay).values(count=9))
    # Progress rows carry the real time of their last change: the range reaches today.
    learners.rebuild(MONDAY.date() - timedelta(days=1), utcnow().date())
    db.session.commit()
    assert snapshot() == counted


def test_a_rebuild_of_a_few_days_leaves_the_other_days_alone(course, creator, learner, classmate, stranger):
    busy_weeks(course, creator, (learner, classmate, stranger))
    counted = snapshot()
    learners.rebuild(MONDAY.date() + timedelta(days=3), MONDAY.date() + timedelta(days=5))
    db.session.commit()
    assert snapshot() == counted


def test_the_learner_figures_of_a_period_and_the_one_before(course, creator, learner, classmate, stranger):
    busy_weeks(course, creator, (learner, classmate, stranger))
    first_week = Period(MONDAY.date(), MONDAY.date() + timedelta(days=6))
    second_week = Period(MONDAY.date() + timedelta(days=7), MONDAY.date() + timedelta(days=13))
    figures = learners.learner_figures(Scope(creator_id=creator.id, course_id=course.id), second_week, "day",
                                       now=MONDAY + timedelta(days=14))
    assert (figures.enrollments, figures.previous_enrollments) == (1, 2)
    assert (figures.completions, figures.previous_completions) == (0, 1)
    assert (figures.completion_rate, figures.previous_completion_rate) == (0, 50)
    assert (figures.median_hours, figures.previous_median_hours) == (None, 4 * 24 + 7)
    assert figures.enrollments_per_bucket == [0, 1, 0, 0, 0, 0, 0]
    assert len(figures.buckets) == 7
    first = learners.learner_figures(Scope(creator_id=creator.id), first_week, "week", now=MONDAY)
    assert first.enrollments_per_bucket == [2] and first.completions_per_bucket == [1]


def test_active_learners_are_counted_once_across_a_creators_courses(course, creator, admin, learner, classmate):
    other = learning_course(creator, admin, title="Second course")
    now = utcnow()
    enroll(learner, course, now - timedelta(days=3))
    enroll(learner, other, now - timedelta(days=2))
    enroll(classmate, course, now - timedelta(days=20))
    revoked = enroll(admin, other, now - timedelta(days=1))
    enrollment.revoke(revoked, reason="refunded")
    db.session.commit()
    everything = Scope(creator_id=creator.id)
    assert learners.active_learners(everything, now, 7, 30) == [1, 2]
    assert learners.active_learners(Scope(creator_id=creator.id, course_id=other.id), now, 30) == [1]


def test_where_learners_stop_is_the_lesson_after_which_reach_falls_most(course, creator, learner, classmate, stranger):
    for person in (learner, classmate, stranger):
        enroll(person, course, MONDAY)
    for person in (learner, classmate, stranger):
        open_lesson(person, course, "Welcome video", MONDAY)
    for person in (learner, classmate, stranger):
        open_lesson(person, course, "Course notes", MONDAY)
    open_lesson(learner, course, "The first principle", MONDAY)
    [drop] = learners.lesson_dropoff(Scope(creator_id=creator.id, course_id=course.id))
    assert [row.reach_percent for row in drop.lessons] == [100, 100, 33.3, 0, 0]
    assert drop.stop_after.title == "Course notes" and drop.next_lesson.title == "The first principle"
    assert drop.drop == 2 and drop.lessons[0].watched_percent == 0 and drop.lessons[1].watched_percent is None


def test_learners_who_never_open_a_lesson_stop_before_the_first(course, creator, learner, classmate):
    enroll(learner, course, MONDAY)
    enroll(classmate, course, MONDAY)
    [drop] = learners.lesson_dropoff(Scope(creator_id=creator.id))
    assert drop.stop_before_first and drop.drop == 2 and drop.drop_percent == 100


def test_the_hardest_questions_need_enough_answers(course, creator, learner):
    quiz_lesson = lesson(course, "Check yourself")
    enroll(learner, course, MONDAY)
    for _ in range(engagement.MIN_ANSWERS - 1):
        attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson), now=MONDAY)
    db.session.commit()
    scope = Scope(creator_id=creator.id, course_id=course.id)
    assert engagement.hardest_questions(scope).rows == []
    attempts.submit_quiz(learner, quiz_lesson, right_answers(quiz_lesson), now=MONDAY)
    db.session.commit()
    rows = engagement.hardest_questions(scope).rows
    assert [row[0] for row in rows] == ["What comes first?", "Tests find bugs."]
    assert rows[0][1:] == ["Check yourself", 5, 20]
    assert engagement.quiz_table(scope).rows == [["Check yourself", 5, 1, 20]]
    assert engagement.quiz_table(Scope(creator_id=creator.id)).rows == [["Check yourself", course.title, 5, 1, 20]]


@pytest.mark.parametrize(("counts", "median"), [
    ({}, None), ({5: 1}, 5), ({1: 1, 3: 1}, 2), ({1: 2, 10: 1}, 1), ({0: 1, 4: 2, 100: 1}, 4)])
def test_the_median_of_hour_buckets(counts, median):
    assert engagement.median_hours(counts) == median


def test_the_engagement_events_say_what_happened(course, creator, learner, emitted):
    quiz_lesson = lesson(course, "Check yourself")
    enroll(learner, course, MONDAY)
    attempt, _ = attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson), now=MONDAY)
    review = reviews.write_review(learner, course, rating=5, now=MONDAY)
    db.session.commit()
    reviews.write_review(learner, course, rating=5, body="Same stars", now=MONDAY)  # no new stars, no event
    reviews.write_review(learner, course, rating=3, now=MONDAY + timedelta(days=1))
    db.session.commit()
    review_id = review.id
    reviews.delete_review(learner, course)
    thread = discussions.start_thread(learner, course, title="Why?", body="Why so?", now=MONDAY)
    db.session.commit()
    post = discussions.reply(creator, thread, body="Because.", now=MONDAY)
    discussions.reply(creator, thread, body="And also.", now=MONDAY)
    db.session.commit()
    assert named(emitted, "learning.quiz.attempted") == [{"attempt_id": attempt.id}]
    assert named(emitted, "learning.review.written") == [
        {"review_id": review_id, "course_id": course.id, "rating": 5, "written_at": MONDAY}]
    assert named(emitted, "learning.review.rerated") == [
        {"review_id": review_id, "course_id": course.id, "old_rating": 5, "new_rating": 3, "written_at": MONDAY}]
    assert named(emitted, "learning.review.deleted") == [{"course_id": course.id, "rating": 3, "written_at": MONDAY}]
    assert named(emitted, "learning.question.asked") == [{"thread_id": thread.id}]
    assert named(emitted, "learning.question.answered") == [{"thread_id": thread.id, "post_id": post.id}]
