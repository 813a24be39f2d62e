"""Checkout (app/commerce/orders.py): what can be bought, and the terms an order snapshots —
price, commission (round half up, per-course override, the admin's rate history by effective
date) and the escrow policy."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.models import Order
from app.commerce.orders import access_order, check_buyable, mark_paid
from app.commerce.settings import set_commission_rate, set_course_commission, set_setting
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.learning.enrollment import enroll
from app.learning.queries import active_enrollment
from app.moderation.suspensions import suspend_user
from tests.factories import make_course
from tests.support.commerce import buy, checkout, paid_course


def orders_of(buyer) -> list[Order]:
    return list(db.session.scalars(sa.select(Order).where(Order.buyer_id == buyer.id)))


def test_a_published_paid_course_is_buyable(learner, creator):
    check_buyable(learner, paid_course(creator))


def test_a_free_course_cannot_be_bought(learner, creator):
    course = make_course(creator, status="published", price_minor=0)
    with pytest.raises(Conflict, match="free"):
        checkout(learner, course)
    assert orders_of(learner) == []


@pytest.mark.parametrize("status", ["draft", "under_review", "unpublished", "archived"])
def test_an_unpublished_course_cannot_be_bought(learner, creator, status):
    course = make_course(creator, status=status, price_minor=2999)
    with pytest.raises(Conflict, match="not for sale"):
        checkout(learner, course)
    assert orders_of(learner) == []


def test_a_creator_never_buys_their_own_course(creator):
    with pytest.raises(Invalid, match="your own course"):
        checkout(creator, paid_course(creator))
    assert orders_of(creator) == []


def test_a_suspended_creators_course_cannot_be_bought(learner, creator, admin):
    course = paid_course(creator)
    suspend_user(admin, creator, reason="fraud")
    db.session.commit()
    with pytest.raises(Conflict, match="cannot be bought"):
        checkout(learner, course)
    assert orders_of(learner) == []


def test_a_suspended_buyer_cannot_check_out(learner, creator, admin):
    course = paid_course(creator)
    suspend_user(admin, learner, reason="fraud")
    db.session.commit()
    with pytest.raises(NotAllowed):
        checkout(learner, course)


def test_a_course_already_owned_cannot_be_bought_again(learner, creator):
    course = paid_course(creator)
    buy(learner, course)
    with pytest.raises(Conflict, match="already own"):
        checkout(learner, course)
    assert len(orders_of(learner)) == 1


def test_the_order_snapshots_price_default_commission_and_escrow_policy(app, learner, creator):
    course = paid_course(creator, price_minor=2999)
    order = checkout(learner, course)
    assert (order.price_minor, order.currency, order.status) == (2999, "USD", "pending")
    assert order.commission_bps == app.config["DEFAULT_COMMISSION_BPS"] == 1500
    assert (order.commission_minor, order.creator_share_minor) == (450, 2549)  # 449.85 -> 450
    assert (order.escrow_mode, order.escrow_days) == ("completion_or_days", 30)
    assert (order.buyer_id, order.creator_id, order.course_id) == (learner.id, creator.id, course.id)
    assert order.gateway == "local" and order.checkout_session_id


@pytest.mark.parametrize("price, rate, commission", [
    (2990, 1500, 449),   # 448.5: half rounds up (banker's rounding would give 448)
    (2970, 1500, 446),   # 445.5 -> 446
    (1001, 500, 50),     # 50.05 -> 50
    (199, 2500, 50),     # 49.75 -> 50
    (2999, 0, 0),
    (2999, 10000, 2999),
])
def test_commission_is_rounded_half_up_on_the_order(learner, creator, admin, price, rate, commission):
    course = paid_course(creator, price_minor=price)
    set_course_commission(admin, course, rate, reason="test")
    order = checkout(learner, course)
    assert (order.commission_bps, order.commission_minor, order.creator_share_minor) == \
        (rate, commission, price - commission)


def test_a_per_course_override_wins_over_the_platform_rate(learner, creator, admin):
    course = paid_course(creator, price_minor=2000)
    set_commission_rate(admin, 2000, reason="new year", effective_at=utcnow() - timedelta(days=1))
    set_course_commission(admin, course, 500, reason="launch partner")
    order = checkout(learner, course)
    assert (order.commission_bps, order.commission_minor, order.creator_share_minor) == (500, 100, 1900)


def test_the_rate_in_force_at_checkout_time_is_used(learner, creator, admin, make_user):
    now = utcnow()
    set_commission_rate(admin, 1000, reason="summer", effective_at=now - timedelta(days=10))
    set_commission_rate(admin, 2500, reason="autumn", effective_at=now + timedelta(days=10))
    course = paid_course(creator, price_minor=2000)
    today = checkout(learner, course, now=now)
    later = checkout(make_user(), course, now=now + timedelta(days=11))
    earlier = checkout(make_user(), course, now=now - timedelta(days=20))
    assert (today.commission_bps, today.commission_minor) == (1000, 200)
    assert (later.commission_bps, later.commission_minor) == (2500, 500)
    assert (earlier.commission_bps, earlier.commission_minor) == (1500, 300)  # the configured default


def test_the_escrow_policy_is_snapshotted_on_the_order(learner, creator, admin, make_user):
    course = paid_course(creator)
    set_setting(admin, "escrow", {"mode": "days", "days": 7})
    before = checkout(learner, course)
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    after = checkout(make_user(), course)
    assert (before.escrow_mode, before.escrow_days) == ("days", 7)
    assert after.escrow_mode == "none"


def test_terms_are_kept_when_the_rate_changes_between_checkout_and_payment(learner, creator, admin):
    course = paid_course(creator, price_minor=2000)
    order = checkout(learner, course)
    set_commission_rate(admin, 5000, reason="greed")
    db.session.commit()
    mark_paid(order, payment_intent="pi_test_kept", amount_minor=2000)
    assert (order.commission_bps, order.commission_minor) == (1500, 300)
    assert ledger.balance(ledger.COMMISSION) == 300


def test_a_second_checkout_reuses_the_pending_order(learner, creator):
    course = paid_course(creator)
    first = checkout(learner, course)
    second = checkout(learner, course)
    assert second.id == first.id
    assert second.checkout_session_id == first.checkout_session_id
    assert len(orders_of(learner)) == 1


def test_a_new_price_makes_a_new_order(learner, creator):
    course = paid_course(creator, price_minor=2999)
    first = checkout(learner, course)
    course.price_minor = 1999
    second = checkout(learner, course)
    assert second.id != first.id and second.price_minor == 1999


def test_checkout_moves_no_money_and_enrolls_no_one(learner, creator):
    course = paid_course(creator)
    checkout(learner, course)
    db.session.commit()
    assert ledger.check_invariants() == []
    assert ledger.balance(ledger.gateway_account("stripe")) == 0
    assert active_enrollment(learner, course) is None


def test_mark_paid_books_the_sale_once_and_enrolls(learner, creator):

    course = paid_course(creator)
    order = checkout(learner, course)
    mark_paid(order, payment_intent="pi_test_1", amount_minor=2999)
    mark_paid(order, payment_intent="pi_test_1", amount_minor=2999)
    assert order.status == "paid" and order.paid_at is not None
    assert ledger.balance(ledger.creator_account(creator.id, "escrow")) == 2549
    assert ledger.balance(ledger.COMMISSION) == 450
    assert active_enrollment(learner, course).payment_status == "paid"
    assert ledger.check_invariants() == []


def test_mark_paid_refuses_a_payment_of_the_wrong_amount(learner, creator):
    order = checkout(learner, paid_course(creator))
    with pytest.raises(ValueError):
        mark_paid(order, payment_intent="pi_test_short", amount_minor=100)
    assert order.status == "pending"
    assert ledger.find_transaction(f"sale:{order.id}") is None


def test_a_sale_without_escrow_goes_straight_to_available(learner, creator, admin):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    order = buy(learner, paid_course(creator))
    assert order.escrow_released_at is not None and order.escrow_release_at is None
    assert ledger.creator_balances(creator.id) == {"escrow": 0, "available": 2549, "payout_in_flight": 0}
    db.session.refresh(creator)
    assert creator.balance == 2549


def test_someone_elses_order_is_not_found(learner, creator, make_user):
    order = checkout(learner, paid_course(creator))
    assert access_order(learner, order.id) is order
    with pytest.raises(NotFound):
        access_order(make_user(), order.id)
    with pytest.raises(NotFound):
        access_order(creator, order.id)
    with pytest.raises(NotFound):
        access_order(learner, order.id + 1000)


def test_an_admin_granted_enrollment_counts_as_owning(learner, creator, admin):
    course = paid_course(creator)
    enroll(learner, course, source="admin", granted_by=admin)
    with pytest.raises(Conflict, match="already own"):
        check_buyable(learner, course)
