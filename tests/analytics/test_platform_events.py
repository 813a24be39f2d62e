"""The events the platform's figures count (app/analytics/platform.py subscribes to them): each
emitted once, after commit, by the service that owns the fact, with its payload."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.catalog import publishing
from app.catalog.models import ReviewDecision
from app.commerce.disputes import close_chargeback, open_chargeback, open_dispute, rule_on_dispute
from app.commerce.models import Payout
from app.commerce.payouts import connect_paypal, request_payout
from app.commerce.settings import set_setting
from app.extensions import db
from app.moderation.decisions import resolve
from app.moderation.reports import report_direct_message
from tests.support.catalog import reviewable_draft
from tests.support.commerce import buy, paid_course
from tests.support.moderation import dm_line

T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def named(emitted, *prefixes) -> list[tuple[str, dict]]:
    return [(e.name, e.payload) for e in emitted if e.name.startswith(prefixes)]


def test_a_review_decision_is_announced_with_when_the_course_was_submitted(creator, reviewer, emitted):
    course = reviewable_draft(creator)
    publishing.submit_for_review(creator, course, now=T1)
    db.session.commit()
    publishing.reject_course(reviewer, course, reasons=["quality"], now=T1 + timedelta(hours=3))
    db.session.commit()
    publishing.submit_for_review(creator, course, now=T1 + timedelta(days=1))
    publishing.approve_course(reviewer, course, now=T1 + timedelta(days=2))
    db.session.commit()
    decisions = db.session.scalars(sa.select(ReviewDecision).order_by(ReviewDecision.id)).all()
    assert [(d.decision, d.submitted_at) for d in decisions] == [("rejected", T1), ("approved", T1 + timedelta(days=1))]
    assert named(emitted, "catalog.course.reviewed", "catalog.course.published") == [
        ("catalog.course.reviewed", {"decision_id": decisions[0].id}),
        ("catalog.course.reviewed", {"decision_id": decisions[1].id}),
        ("catalog.course.published", {"course_id": course.id}),
    ]


def test_a_report_is_announced_when_made_once_and_when_closed(learner, creator, moderator, emitted):
    message = dm_line(creator, learner, body="Rude")
    first = report_direct_message(learner, message.id, reason="Rude")
    again = report_direct_message(learner, message.id, reason="Rude, again")
    db.session.commit()
    resolve(moderator, "direct_message", message.id, action="dismiss", reason="Fine")
    db.session.commit()
    assert again.id == first.id
    assert named(emitted, "moderation.") == [("moderation.report.opened", {"report_id": first.id}),
                                             ("moderation.report.closed", {"report_id": first.id})]


def test_disputes_are_announced_when_opened_and_closed(learner, creator, admin, emitted):
    sale = buy(learner, paid_course(creator))
    dispute = open_dispute(learner, sale, reason="not_as_described", message="Half is missing.")
    db.session.commit()
    rule_on_dispute(admin, dispute, ruling="rejected", decision="As described.")
    db.session.commit()
    chargeback = open_chargeback(db.session.get(type(sale), sale.id), stripe_dispute_id="dp_test_9",
                                 reason="fraudulent")
    db.session.commit()
    close_chargeback(chargeback, won=True)
    close_chargeback(chargeback, won=False)  # already closed: nothing happens
    db.session.commit()
    assert named(emitted, "commerce.dispute.") == [
        ("commerce.dispute.opened", {"dispute_id": dispute.id}),
        ("commerce.dispute.closed", {"dispute_id": dispute.id}),
        ("commerce.dispute.opened", {"dispute_id": chargeback.id}),
        ("commerce.dispute.closed", {"dispute_id": chargeback.id}),
    ]


def test_a_settled_payout_is_announced_once(learner, creator, admin, make_user, emitted):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    course = paid_course(creator)
    buy(learner, course)
    buy(make_user(), course)
    connect_paypal(creator, email="creator@example.test")
    request_payout(creator, 3000)
    db.session.commit()
    payout = db.session.scalar(sa.select(Payout))
    assert payout.status == "paid"
    assert named(emitted, "commerce.payout.") == [("commerce.payout.settled", {"payout_id": payout.id})]
