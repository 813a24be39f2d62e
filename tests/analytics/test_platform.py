"""The platform's day (app/analytics/platform.py): each fact counted on the day it happened, by
its subscriber, and the same figures again from the source tables by `rebuild`."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.auth import sign_up
from app.accounts.models import User
from app.analytics import platform
from app.analytics.models import DurationDay, PlatformDay
from app.analytics.periods import Period
from app.analytics.rollups import bump, day_of
from app.catalog import publishing
from app.commerce.disputes import close_chargeback, open_chargeback, open_dispute, rule_on_dispute
from app.commerce.payouts import connect_paypal, request_payout
from app.commerce.settings import set_setting
from app.dbtypes import utcnow
from app.extensions import db
from app.moderation.decisions import resolve
from app.moderation.reports import report_direct_message
from tests.support.catalog import reviewable_draft
from tests.support.commerce import buy, paid_course
from tests.support.moderation import dm_line

T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def platform_rows() -> dict[date, dict[str, int]]:
    rows = db.session.scalars(sa.select(PlatformDay).order_by(PlatformDay.day))
    found = {row.day: {name: getattr(row, name) for name in platform.COLUMNS} for row in rows}
    return {day: {k: v for k, v in figures.items() if v} for day, figures in found.items()
            if any(figures.values())}


def decision_hours() -> dict[tuple[date, int], int]:
    return {(row.day, row.hours): row.count for row in db.session.scalars(
        sa.select(DurationDay).where(DurationDay.metric == platform.REVIEW_METRIC)) if row.count}


def published_after_one_rejection(creator, reviewer, *, title="Practical SQL"):
    """Submitted on T1, rejected a day later, submitted again on day 3 and approved 5 hours after."""
    course = reviewable_draft(creator, title=title)
    db.session.commit()
    publishing.submit_for_review(creator, course, now=T1)
    db.session.commit()
    publishing.reject_course(reviewer, course, reasons=["quality"], now=T1 + timedelta(days=1))
    db.session.commit()
    publishing.submit_for_review(creator, course, now=T1 + timedelta(days=2))
    db.session.commit()
    publishing.approve_course(reviewer, course, now=T1 + timedelta(days=2, hours=5))
    db.session.commit()
    return course


def test_the_review_queue_counts_submissions_decisions_and_the_time_to_each(creator, reviewer):
    published_after_one_rejection(creator, reviewer)
    day = T1.date()
    assert platform_rows() == {
        day: {"submissions": 1},
        day + timedelta(days=1): {"rejections": 1},
        day + timedelta(days=2): {"submissions": 1, "approvals": 1, "new_creators": 1},
    }
    assert decision_hours() == {(day + timedelta(days=1), 24): 1, (day + timedelta(days=2), 5): 1}
    assert platform.median_hours(platform.REVIEW_METRIC, 0, Period(day, day + timedelta(days=6))) == 14.5


def test_a_creator_is_new_once_whatever_they_publish_next(creator, reviewer, admin):
    course = published_after_one_rejection(creator, reviewer)
    publishing.unpublish_course(creator, course, now=T1 + timedelta(days=3))
    db.session.commit()
    publishing.submit_for_review(creator, course, now=T1 + timedelta(days=4))
    db.session.commit()
    publishing.approve_course(reviewer, course, now=T1 + timedelta(days=4, hours=1))
    db.session.commit()
    other = reviewable_draft(creator, title="Advanced SQL")
    db.session.commit()
    publishing.submit_for_review(creator, other, now=T1 + timedelta(days=5))
    db.session.commit()
    publishing.approve_course(reviewer, other, now=T1 + timedelta(days=5, hours=2))
    db.session.commit()
    assert sum(figures.get("new_creators", 0) for figures in platform_rows().values()) == 1


def test_sign_ups_count_as_new_learners_on_their_day(db):
    sign_up(email="new1@example.test", display_name="New One", password="a long enough secret 1",
            now=T1)
    sign_up(email="new2@example.test", display_name="New Two", password="a long enough secret 2",
            now=T1 + timedelta(hours=20))
    db.session.commit()
    assert platform_rows() == {T1.date(): {"new_learners": 1},
                               T1.date() + timedelta(days=1): {"new_learners": 1}}


def test_reports_count_when_made_and_when_closed(learner, creator, moderator):
    first = dm_line(creator, learner, body="Buy my other course or else")
    second = dm_line(creator, learner, body="Last warning")
    report_direct_message(learner, first.id, reason="Threats")
    report_direct_message(learner, second.id, reason="Threats")
    db.session.commit()
    resolve(moderator, "direct_message", first.id, action="delete", reason="Threatening",
            now=utcnow())
    db.session.commit()
    today = day_of(utcnow())
    assert platform_rows() == {today: {"reports_opened": 2, "reports_resolved": 1}}


@pytest.fixture
def sale(learner, creator):
    return buy(learner, paid_course(creator))


def test_disputes_count_when_opened_and_when_the_buyer_wins(sale, learner, admin, make_user, creator):
    dispute = open_dispute(learner, sale, reason="not_as_described", message="Half is missing.", now=T1)
    db.session.commit()
    rule_on_dispute(admin, dispute, ruling="full_refund", decision="Incomplete.", now=T1 + timedelta(days=1))
    db.session.commit()
    kept = buy(make_user(), paid_course(creator))
    won = open_dispute(kept.buyer, kept, reason="not_as_described", message="Meh.", now=T1)
    db.session.commit()
    rule_on_dispute(admin, won, ruling="rejected", decision="It is as described.", now=T1 + timedelta(days=1))
    db.session.commit()
    assert platform_rows() == {T1.date(): {"disputes_opened": 2},
                               T1.date() + timedelta(days=1): {"disputes_lost": 1}}


def test_a_chargeback_on_an_open_dispute_is_the_same_dispute(sale, learner):
    open_dispute(learner, sale, reason="not_as_described", message="Half is missing.", now=T1)
    db.session.commit()
    chargeback = open_chargeback(sale, stripe_dispute_id="dp_test_1", reason="fraudulent", now=T1)
    db.session.commit()
    close_chargeback(chargeback, won=False, now=T1 + timedelta(days=2))
    db.session.commit()
    assert platform_rows() == {T1.date(): {"disputes_opened": 1},
                               T1.date() + timedelta(days=2): {"disputes_lost": 1}}


@pytest.fixture
def earning(learner, creator, admin, make_user):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    course = paid_course(creator)
    buy(learner, course)
    buy(make_user(), course)
    connect_paypal(creator, email="creator@example.test")
    db.session.commit()
    return creator


def test_a_settled_payout_counts_as_sent(earning):
    request_payout(earning, 3000)
    db.session.commit()  # the payout job runs (and settles) after this commit
    assert platform_rows() == {day_of(utcnow()): {"payouts_sent": 1}}
    [line] = platform.payouts_sent(Period(day_of(utcnow()), day_of(utcnow())))
    assert (line.currency, line.count, line.amount) == ("USD", 1, 3000)


def test_rebuild_gives_what_the_subscribers_counted(creator, reviewer, admin, learner, moderator, earning,
                                                    make_user):
    published_after_one_rejection(creator, reviewer)
    sign_up(email="new1@example.test", display_name="New One", password="a long enough secret 1", now=T1)
    message = dm_line(creator, learner, body="Rude")
    report_direct_message(learner, message.id, reason="Rude")
    db.session.commit()
    resolve(moderator, "direct_message", message.id, action="dismiss", reason="Fine", now=utcnow())
    sale = buy(make_user(), paid_course(creator))
    dispute = open_dispute(sale.buyer, sale, reason="not_as_described", message="Half is missing.", now=T1)
    db.session.commit()
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=500, decision="Some.",
                    now=T1 + timedelta(days=1))
    request_payout(earning, 3000)
    db.session.commit()
    # The test factories create users directly, not by signing up (no event): move them out of
    # the range rebuilt, as if they had signed up long ago.
    signed_up = db.session.scalar(sa.select(User.id).where(User.email == "new1@example.test"))
    db.session.execute(sa.update(User).where(User.id != signed_up).values(created_at=T1 - timedelta(days=30)))
    db.session.commit()
    counted, hours = platform_rows(), decision_hours()
    assert len(counted) >= 4 and hours

    bump(PlatformDay, {"day": T1.date()}, approvals=7, payouts_sent=3)  # a stray count: rebuild removes it
    platform.rebuild(T1.date() - timedelta(days=1), day_of(utcnow()))
    db.session.commit()
    assert platform_rows() == counted
    assert decision_hours() == hours


def test_rebuild_of_a_range_leaves_other_days_alone(creator, reviewer):
    published_after_one_rejection(creator, reviewer)
    before = platform_rows()
    platform.rebuild(T1.date() + timedelta(days=1), T1.date() + timedelta(days=1))
    db.session.commit()
    assert platform_rows() == before


def test_the_overview_compares_with_the_previous_period_and_counts_what_waits(creator, reviewer, make_course):
    published_after_one_rejection(creator, reviewer)
    make_course(creator, status="under_review", submitted_at=utcnow())
    period = Period(T1.date() + timedelta(days=7), T1.date() + timedelta(days=13))
    overview = platform.platform_overview(period, "day")
    assert overview.before["approvals"] == 1 and overview.now["approvals"] == 0
    assert overview.median_decision is None and overview.median_decision_before == 14.5
    assert overview.waiting_review == 1
    assert overview.dispute_rate is None  # no sales: "—", not a division by zero


def test_median_hours_of_an_odd_and_an_even_count(db):
    day = T1.date()
    for hours in (1, 3, 10):
        bump(DurationDay, {"metric": "review_decision", "scope_id": 0, "day": day, "hours": hours}, count=1)
    assert platform.median_hours("review_decision", 0, Period(day, day)) == 3
    bump(DurationDay, {"metric": "review_decision", "scope_id": 0, "day": day, "hours": 20}, count=1)
    assert platform.median_hours("review_decision", 0, Period(day, day)) == 6.5
    assert platform.median_hours("review_decision", 0, Period(day + timedelta(days=1), day + timedelta(days=1))) is None
