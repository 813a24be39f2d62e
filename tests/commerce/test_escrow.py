"""Escrow (app/commerce/escrow.py): a sale's creator share waits until the learner completes
the course or N days pass (the policy snapshotted on the order); no escrow pays at once; a
frozen sale is never released; a release is booked once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.commerce import escrow, ledger
from app.commerce.disputes import open_dispute, rule_on_dispute
from app.commerce.models import Order
from app.commerce.refunds import book_reversal
from app.commerce.settings import set_setting
from app.extensions import db
from tests.support.commerce import balances, buy, complete_lessons, course_with_lessons, keys, paid_course

HELD = {"escrow": 2549, "available": 0, "payout_in_flight": 0}
RELEASED = {"escrow": 0, "available": 2549, "payout_in_flight": 0}


def reload(order) -> Order:
    return db.session.get(Order, order.id)


def test_no_escrow_pays_the_creator_at_once(learner, creator, admin):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    db.session.commit()
    order = buy(learner, paid_course(creator))
    assert order.escrow_mode == "none" and order.escrow_released_at == order.paid_at
    assert balances(creator) == RELEASED
    assert escrow.release_due(now=order.paid_at + timedelta(days=365)) == 0
    assert keys("escrow-release:") == []


def test_a_days_policy_releases_after_n_days_and_not_before(learner, creator, admin):
    set_setting(admin, "escrow", {"mode": "days", "days": 14})
    db.session.commit()
    order = buy(learner, paid_course(creator))
    assert order.escrow_release_at == order.paid_at + timedelta(days=14)
    assert balances(creator) == HELD

    assert escrow.release_due(now=order.paid_at + timedelta(days=14) - timedelta(seconds=1)) == 0
    assert balances(creator) == HELD
    assert escrow.release_due(now=order.paid_at + timedelta(days=14)) == 1
    assert balances(creator) == RELEASED
    assert reload(order).escrow_released_at is not None
    db.session.refresh(creator)
    assert creator.balance == 2549
    assert ledger.check_invariants() == []


def test_a_days_policy_ignores_completion(learner, creator, admin):
    set_setting(admin, "escrow", {"mode": "days", "days": 30})
    course = course_with_lessons(creator, admin)
    buy(learner, course)
    complete_lessons(learner, course)
    assert balances(creator) == HELD


def test_completing_the_course_releases_the_escrow(learner, creator, admin, emitted):
    course = course_with_lessons(creator, admin, lessons=3)
    order = buy(learner, course)
    assert order.escrow_mode == "completion_or_days"
    complete_lessons(learner, course, count=2)
    assert balances(creator) == HELD  # two of three lessons is not completion
    complete_lessons(learner, course)
    assert [e.name for e in emitted].count("learning.course.completed") == 1
    assert balances(creator) == RELEASED
    assert keys("escrow-release:") == [f"escrow-release:{order.id}"]
    assert reload(order).escrow_released_at is not None
    assert ledger.check_invariants() == []


def test_without_completion_the_days_still_run_out(learner, creator, admin):
    course = course_with_lessons(creator, admin)
    order = buy(learner, course)
    complete_lessons(learner, course, count=1)
    assert escrow.release_due(now=order.paid_at + timedelta(days=29)) == 0
    assert escrow.release_due(now=order.paid_at + timedelta(days=30)) == 1
    assert balances(creator) == RELEASED


def test_a_frozen_sale_is_never_released(learner, creator, admin):
    course = course_with_lessons(creator, admin)
    order = buy(learner, course)
    open_dispute(learner, order, reason="quality", message="Nothing like the description.")
    db.session.commit()
    assert escrow.release_due(now=order.paid_at + timedelta(days=400)) == 0
    complete_lessons(learner, course)
    assert escrow.release(reload(order), reason="manual") is False
    assert balances(creator) == HELD
    assert keys("escrow-release:") == []


def test_a_completion_while_frozen_releases_once_the_dispute_is_rejected(learner, creator, admin):
    """Completion came first, while a dispute held the sale: once the admin rejects the
    dispute the escrow is due at once, not 30 days later."""
    course = course_with_lessons(creator, admin)
    order = buy(learner, course)
    dispute = open_dispute(learner, order, reason="quality", message="Nothing like the description.")
    db.session.commit()
    complete_lessons(learner, course)
    assert balances(creator) == HELD
    rule_on_dispute(admin, dispute, ruling="rejected", decision="The course matches its description.")
    db.session.commit()
    assert balances(creator) == RELEASED


def test_releasing_twice_books_once(learner, creator):
    order = buy(learner, paid_course(creator))
    assert escrow.release(order, reason="first") is True
    assert escrow.release(order, reason="again") is False
    assert escrow.release_due(now=order.paid_at + timedelta(days=60)) == 0
    db.session.commit()
    assert escrow.release(reload(order), reason="after commit") is False
    assert keys("escrow-release:") == [f"escrow-release:{order.id}"]
    assert balances(creator) == RELEASED


def test_release_due_only_touches_orders_that_are_due(learner, creator, make_user):
    course = paid_course(creator)
    first = buy(learner, course)
    second = buy(make_user(), course)
    db.session.execute(db.update(Order).where(Order.id == second.id)
                       .values(escrow_release_at=second.paid_at + timedelta(days=40)))
    db.session.commit()
    assert escrow.release_due(now=first.paid_at + timedelta(days=31)) == 1
    assert reload(second).escrow_released_at is None
    assert balances(creator) == {"escrow": 2549, "available": 2549, "payout_in_flight": 0}


def test_a_partly_refunded_sale_releases_only_what_is_left(learner, creator):

    order = buy(learner, paid_course(creator))
    book_reversal(order, 1000, key="refund:partial-test", kind="refund", memo="partial", now=order.paid_at)
    held = escrow.held_minor(order)
    assert held == balances(creator)["escrow"] == 2549 - (1000 - 150)
    assert escrow.release(order, reason="days") is True
    assert balances(creator) == {"escrow": 0, "available": held, "payout_in_flight": 0}
    assert ledger.check_invariants() == []


@pytest.mark.parametrize("status", ["pending", "refunded", "failed", "expired"])
def test_only_paid_orders_are_released(learner, creator, status):
    order = buy(learner, paid_course(creator))
    order.status = status
    assert escrow.release(order, reason="test") is False
    assert keys("escrow-release:") == []
