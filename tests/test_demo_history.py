"""The demo's 90 days of history (app/demo_history.py): learners, sales, refunds, progress with
a drop-off, quizzes with one hard question, reviews, questions answered after varied delays,
and page views by source — all on days before today, the same every time, and loaded once."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from statistics import mean

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.queries import user_by_email
from app.analytics.models import CourseDay, LessonReach, SourceDay
from app.analytics.periods import Period
from app.analytics.rebuild import rebuild
from app.analytics.scope import Scope, daily_sums, totals
from app.commerce.ledger import check_invariants
from app.commerce.models import LedgerTransaction, Order
from app.dbtypes import utcnow
from app.demo import CREATOR, DEMO_COURSES, course_titled
from app.demo_history import HISTORY_DAYS, SOURCES, load_history, make_plan
from app.learning.models import Enrollment, LessonProgress, QuizAttempt, Review, Thread
from app.learning.queries import ordered_lessons
from tests.support.demo import demo_counts

PAID, FREE = (1, 2), 0  # the published courses, by their index in DEMO_COURSES


def demo_data(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output


def test_the_plan_is_the_same_every_time_whatever_today_is():
    today = utcnow().date()
    plan = make_plan(today, PAID, FREE)
    assert plan == make_plan(today, PAID, FREE)
    later = make_plan(today + timedelta(days=40), PAID, FREE)
    assert [(s.number, s.name, s.source, len(s.purchases)) for s in later.stories] == \
        [(s.number, s.name, s.source, len(s.purchases)) for s in plan.stories]
    assert all(today - timedelta(days=HISTORY_DAYS) <= s.signed_up_at.date() < today for s in plan.stories)
    sale_days = {p.at.date() for s in plan.stories for p in s.purchases if p.paid and p.course in PAID}
    assert len(sale_days) >= 60
    assert {s.source for s in plan.stories} == set(SOURCES)
    assert any(p.refund_after for s in plan.stories for p in s.purchases)
    assert any(not p.paid for s in plan.stories for p in s.purchases)  # checkouts left unpaid


def _creator_courses():
    creator = user_by_email(CREATOR)
    return creator, {index: course_titled(DEMO_COURSES[index][0]) for index in (FREE, *PAID)}


def test_the_demo_fills_the_last_90_days_and_a_second_load_adds_nothing(app, db):
    demo_data(app)
    creator, courses = _creator_courses()
    today = utcnow().date()
    midnight = datetime.combine(today, time(0), UTC)
    first = today - timedelta(days=HISTORY_DAYS)
    ids = [course.id for course in courses.values()]

    # Sales on most days, through the ledger, never today; some refunded (access revoked).
    history = sa.select(Order.id).join(User, User.id == Order.buyer_id).where(User.email.like("%@history.example.com"))
    sales = db.session.execute(sa.select(LedgerTransaction.kind, LedgerTransaction.created_at).where(
        LedgerTransaction.order_id.in_(history))).all()
    assert all(moment < midnight for _kind, moment in sales)
    sale_days = {moment.date() for kind, moment in sales if kind == "sale"}
    assert len(sale_days) >= 60 and min(sale_days) >= first
    assert sum(kind == "refund" for kind, _ in sales) >= 5
    refunded = db.session.scalars(sa.select(Order).where(Order.id.in_(history), Order.status == "refunded")).all()
    assert refunded and all(
        db.session.scalar(sa.select(Enrollment.revoked_at).where(
            Enrollment.course_id == order.course_id, Enrollment.learner_id == order.buyer_id)) is not None
        for order in refunded)
    assert {order.traffic_source for order in db.session.scalars(sa.select(Order).where(Order.id.in_(history)))} \
        == set(SOURCES)
    assert check_invariants() == []

    # Fewer learners at each lesson; videos watched part of the way; completions on many days.
    for index in (FREE, *PAID):
        lessons = ordered_lessons(courses[index].id)
        reached = [db.session.scalar(sa.select(sa.func.count()).where(LessonProgress.lesson_id == lesson.id))
                   for lesson in lessons]
        assert reached == sorted(reached, reverse=True) and reached[0] > 2 * reached[-1] > 0, reached
        video = next(lesson for lesson in lessons if lesson.kind == "video")
        watched = db.session.scalars(sa.select(LessonProgress.watched_seconds).where(
            LessonProgress.lesson_id == video.id)).all()
        assert len(set(watched)) >= 10 and 0.3 < mean(watched) / video.duration_seconds < 0.95
    completions = db.session.scalars(sa.select(Enrollment.completed_at).where(
        Enrollment.course_id.in_(ids), Enrollment.completed_at.is_not(None))).all()
    assert len({moment.date() for moment in completions if moment < midnight}) >= 20

    # The quiz's first question is clearly harder than the second.
    right = defaultdict(list)
    quiz = next(lesson for lesson in ordered_lessons(courses[1].id) if lesson.kind == "quiz").quiz
    for attempt in db.session.scalars(sa.select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id)):
        for position, question in enumerate(quiz.questions):
            correct = sorted(option.id for option in question.options if option.is_correct)
            right[position].append(attempt.answers[str(question.id)] == correct)
    assert mean(right[0]) < 0.65 < 0.85 < mean(right[1])

    # Reviews of every kind over many days; questions answered after minutes or days, some not yet.
    ratings = db.session.execute(sa.select(Review.rating, Review.created_at).where(Review.course_id.in_(ids))).all()
    assert len({rating for rating, _ in ratings}) >= 3 and len({moment.date() for _, moment in ratings}) >= 15
    delays, open_questions = [], 0
    for thread in db.session.scalars(sa.select(Thread).where(Thread.course_id.in_(ids))):
        answers = [post for post in thread.posts if post.author_id == creator.id]
        if answers:
            delays.append(answers[0].created_at - thread.created_at)
        else:
            open_questions += 1
    assert min(delays) <= timedelta(hours=1) and max(delays) >= timedelta(days=2) and open_questions >= 1

    # Page views of every course on every day, by source; the course's day is the sum of its sources.
    views = db.session.execute(sa.select(SourceDay.course_id, SourceDay.day, SourceDay.source, SourceDay.page_views)
                               .where(SourceDay.course_id.in_(ids))).all()
    assert {source for *_rest, source, _views in views} == set(SOURCES)
    by_day = Counter()
    for course_id, day, _source, count in views:
        if day < today:  # today's rows are the live counts (checkouts of the demo's own purchases)
            by_day[course_id, day] += count
    assert len(by_day) == len(ids) * HISTORY_DAYS
    course_days = dict(((course_id, day), page_views) for course_id, day, page_views in db.session.execute(
        sa.select(CourseDay.course_id, CourseDay.day, CourseDay.page_views).where(CourseDay.course_id.in_(ids))))
    assert all(course_days[key] == count for key, count in by_day.items())

    # The rollups the analytics pages read are full: sales on at least 60 of the 90 days, refunds,
    # fewer learners at each lesson of a paid course, and the same figures a rebuild gives.
    sale_days = set(db.session.scalars(sa.select(CourseDay.day).where(
        CourseDay.creator_id == creator.id, CourseDay.sales > 0, CourseDay.day >= first)))
    assert len(sale_days) >= 60
    assert db.session.scalar(sa.select(sa.func.sum(CourseDay.refund_count))
                             .where(CourseDay.creator_id == creator.id)) >= 1
    for index in PAID:
        reach = [db.session.get(LessonReach, lesson.id).reached for lesson in ordered_lessons(courses[index].id)]
        assert reach == sorted(reach, reverse=True) and reach[0] > reach[-1] > 0
    money_columns = ["sales", "gross", "commission", "refunds", "creator_net", "enrollments", "completions"]
    booked = totals(daily_sums(CourseDay, Scope(creator_id=creator.id), Period(first, today), money_columns),
                    money_columns)
    rebuild(first, today - timedelta(days=1))
    assert totals(daily_sums(CourseDay, Scope(creator_id=creator.id), Period(first, today), money_columns),
                  money_columns) == booked

    # A second load adds nothing (the page views included).
    counts = demo_counts(db.session)
    assert load_history(creator, [course_titled(title) for title, *_rest in DEMO_COURSES]) == 0
    assert demo_counts(db.session) == counts

