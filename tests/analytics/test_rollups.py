"""The rollups' one write: an atomic add-or-insert, and summing them per scope and bucket."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.analytics import rollups
from app.analytics.models import CourseDay, DurationDay, PlatformDay
from app.analytics.periods import Period
from app.analytics.scope import Scope, daily_sums, per_bucket, totals
from app.extensions import db
from tests import factories
from tests.support.apps import build_app

DAY = date(2026, 3, 2)


def course_day(course_id: int, day: date = DAY) -> CourseDay:
    db.session.expire_all()
    return db.session.get(CourseDay, (course_id, day))


def test_bump_creates_the_row_then_adds_to_it(creator):
    course = factories.make_course(creator)
    rollups.bump(CourseDay, {"course_id": course.id, "day": DAY, "creator_id": creator.id}, sales=1, gross=2999)
    rollups.bump(CourseDay, {"course_id": course.id, "day": DAY, "creator_id": creator.id}, sales=1, gross=1000,
                 refunds=0)
    row = course_day(course.id)
    assert (row.sales, row.gross, row.refunds, row.page_views, row.creator_id) == (2, 3999, 0, 0, creator.id)


def test_bump_needs_the_whole_primary_key():
    with pytest.raises(ValueError, match="missing \\['day'\\]"):
        rollups.bump(PlatformDay, {}, new_learners=1)


def test_reset_zeroes_only_the_named_columns_in_the_range(creator):
    course = factories.make_course(creator)
    for day in (date(2026, 3, 1), DAY, date(2026, 3, 3)):
        rollups.bump(CourseDay, {"course_id": course.id, "day": day, "creator_id": creator.id},
                     sales=2, page_views=7)
    rollups.reset(CourseDay, ["sales"], DAY, date(2026, 3, 3))
    assert [(course_day(course.id, d).sales, course_day(course.id, d).page_views)
            for d in (date(2026, 3, 1), DAY, date(2026, 3, 3))] == [(2, 7), (0, 7), (0, 7)]


def test_hours_between_is_whole_hours_within_a_year():
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert rollups.hours_between(start, datetime(2026, 3, 2, 12, 59, tzinfo=UTC)) == 2
    assert rollups.hours_between(start, datetime(2020, 1, 1, tzinfo=UTC)) == 0
    assert rollups.hours_between(start, datetime(2030, 1, 1, tzinfo=UTC)) == rollups.MAX_HOURS


def test_daily_sums_follow_the_scope_and_the_period(creator, make_user):
    other = make_user()
    mine, second, theirs = factories.make_course(creator), factories.make_course(creator), factories.make_course(other)
    for course, owner in ((mine, creator), (second, creator), (theirs, other)):
        for day in (date(2026, 2, 28), DAY, date(2026, 3, 9)):
            rollups.bump(CourseDay, {"course_id": course.id, "day": day, "creator_id": owner.id}, sales=1, gross=100)
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert daily_sums(CourseDay, Scope(creator_id=creator.id), period, ["sales"]) == {
        DAY: {"sales": 2}, date(2026, 3, 9): {"sales": 2}}
    assert totals(daily_sums(CourseDay, Scope(creator.id, mine.id), period, ["sales", "gross"]),
                  ["sales", "gross"]) == {"sales": 2, "gross": 200}
    platform = daily_sums(CourseDay, Scope(), period, ["sales"])
    assert sum(day["sales"] for day in platform.values()) >= 6
    weekly = per_bucket(daily_sums(CourseDay, Scope(creator_id=creator.id), period, ["sales"]), period, "week", "sales")
    # Weeks start on Monday: 23 Feb (holding only Sunday 1 March of the period), 2 Mar, 9 Mar, … 30 Mar.
    assert weekly == [0, 2, 2, 0, 0, 0]


def test_daily_sums_group_by_a_column(creator):
    dollars, euros = factories.make_course(creator), factories.make_course(creator)
    rollups.bump(CourseDay, {"course_id": dollars.id, "day": DAY, "creator_id": creator.id, "currency": "USD"}, gross=500)
    rollups.bump(CourseDay, {"course_id": euros.id, "day": DAY, "creator_id": creator.id, "currency": "EUR"}, gross=300)
    sums = daily_sums(CourseDay, Scope(creator_id=creator.id), Period(DAY, DAY), ["gross"], group_by="currency")
    assert sums == {("USD", DAY): {"gross": 500}, ("EUR", DAY): {"gross": 300}}


@pytest.mark.real_services
@pytest.mark.committed
def test_concurrent_bumps_of_one_row_all_count():
    """Eight connections add to the same new row at once: the upsert neither loses an addition
    nor fails on the unique key (on PostgreSQL, whose row locks make this a real race)."""
    app, teardown = build_app()
    try:
        with app.app_context():
            key = {"metric": "completion", "scope_id": 1, "day": DAY, "hours": 3}
            start = threading.Barrier(8)
            errors: list[Exception] = []

            def add() -> None:
                with app.app_context():
                    try:
                        start.wait()
                        for _ in range(25):
                            rollups.bump(DurationDay, key, count=1)
                            db.session.commit()
                    except Exception as exc:  # reported below
                        errors.append(exc)
                    finally:
                        db.session.remove()

            threads = [threading.Thread(target=add) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert db.session.scalar(sa.select(DurationDay.count).filter_by(**key)) == 200
            db.session.remove()
    finally:
        teardown()
