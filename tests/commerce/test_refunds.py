"""Refunds (app/commerce/refunds.py): automatic inside the window and the consumption limit,
otherwise the admin queue; the reversal comes from escrow while held, from available after
release (which may go negative); the commission comes back in proportion, never more than
was kept; a full refund revokes the enrollment; both sides are told."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import escrow, ledger
from app.commerce.disputes import open_dispute
from app.commerce.models import Order, Refund
from app.commerce.payouts import connect_paypal, request_payout
from app.commerce.refunds import (
    book_reversal,
    decide_refund,
    refund_eligibility,
    refund_queue,
    request_refund,
    reversal_split,
)
from app.commerce.settings import set_setting
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.learning.queries import active_enrollment, enrollment_for
from app.moderation.models import AuditLog
from tests.support.commerce import (
    balances,
    buy,
    checkout,
    complete_lessons,
    course_with_lessons,
    keys,
    paid_course,
    platform_revenue,
)
from tests.support.rows import notifications

NOTHING = {"escrow": 0, "available": 0, "payout_in_flight": 0}


def reload(obj):
    return db.session.get(type(obj), obj.id)


def refund_request(buyer, order, *, days_after: float = 1, reason="Not for me"):
    refund = request_refund(buyer, order, reason=reason, now=order.paid_at + timedelta(days=days_after))
    db.session.commit()  # the gateway's confirmation is applied after this commit
    return reload(refund)


@pytest.fixture
def order(learner, creator):
    return buy(learner, paid_course(creator))


# --- the automatic path ------------------------------------------------------------------------

def test_a_refund_inside_the_window_is_automatic_and_reverses_the_sale(order, learner, creator):
    refund = refund_request(learner, order)
    assert refund.automatic and refund.status == "succeeded" and refund.gateway_refund_id
    assert refund.amount_minor == 2999 and refund.settled_at is not None
    order = reload(order)
    assert (order.status, order.refunded_minor, order.commission_refunded_minor) == ("refunded", 2999, 450)
    assert balances(creator) == NOTHING
    assert platform_revenue() == 0
    assert ledger.balance(ledger.gateway_account("stripe")) == 0
    assert keys("refund:") == [f"refund:{refund.id}"]
    assert ledger.check_invariants() == []


def test_a_full_refund_revokes_the_enrollment(order, learner):
    refund_request(learner, order)
    enrollment = enrollment_for(learner, order.course)
    assert active_enrollment(learner, order.course) is None
    assert enrollment.payment_status == "refunded" and enrollment.revoked_at is not None


def test_both_sides_are_told_about_a_refund(order, learner, creator):
    refund_request(learner, order)
    [to_learner] = notifications(learner, "commerce.refunded")
    [to_creator] = notifications(creator, "commerce.refund_creator")
    assert to_learner.data["amount"] == to_creator.data["amount"] == 2999
    assert to_learner.data["order_id"] == to_creator.data["order_id"] == order.id


def test_the_last_day_of_the_window_is_still_automatic(order, learner):
    assert refund_request(learner, order, days_after=30).automatic


def test_consumption_up_to_the_limit_is_still_automatic(learner, creator, admin, make_user):
    course = course_with_lessons(creator, admin, lessons=10)
    order = buy(learner, course)
    complete_lessons(learner, course, count=3)  # exactly 30%
    assert refund_eligibility(order, now=order.paid_at)[0] is True
    complete_lessons(learner, course, count=4)  # 40%
    automatic, why = refund_eligibility(order, now=order.paid_at)
    assert automatic is False and "40% of the course" in why


# --- the admin queue -------------------------------------------------------------------------

def test_a_refund_after_the_window_goes_to_the_admin_queue(order, learner, creator):
    refund = refund_request(learner, order, days_after=31)
    assert not refund.automatic and refund.status == "requested"
    assert "more than 30 days" in refund.decision_note
    assert refund in refund_queue()
    assert reload(order).status == "paid"
    assert keys("refund:") == [] and balances(creator)["escrow"] == 2549
    assert active_enrollment(learner, order.course) is not None
    [told] = notifications(learner, "commerce.refund_requested")
    assert "more than 30 days" in told.data["why"]


def test_a_refund_after_too_much_of_the_course_goes_to_the_queue(learner, creator, admin):
    course = course_with_lessons(creator, admin, lessons=3)
    order = buy(learner, course)
    complete_lessons(learner, course, count=1)  # 33% > 30%
    refund = refund_request(learner, order)
    assert refund.status == "requested" and "33% of the course" in refund.decision_note


def test_the_window_and_limit_are_admin_settings(order, learner, admin):
    set_setting(admin, "refunds", {"window_days": 7, "max_consumed_percent": 0})
    db.session.commit()
    assert refund_request(learner, order, days_after=8).status == "requested"


def test_an_admin_approves_a_queued_refund(order, learner, creator, admin):
    refund = refund_request(learner, order, days_after=45)
    decide_refund(admin, refund, approve=True, note="Goodwill")
    db.session.commit()
    refund = reload(refund)
    assert refund.status == "succeeded" and refund.decided_by_id == admin.id
    assert refund.decision_note == "Goodwill"
    assert reload(order).status == "refunded"
    assert balances(creator) == NOTHING
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == refund.id,
                                                              AuditLog.target_type == "refund")) \
        == "refund.approved"


def test_an_admin_rejects_a_queued_refund(order, learner, creator, admin):
    refund = refund_request(learner, order, days_after=45)
    decide_refund(admin, refund, approve=False, note="Most of the course was watched.")
    db.session.commit()
    assert reload(refund).status == "rejected"
    assert reload(order).status == "paid" and keys("refund:") == []
    [told] = notifications(learner, "commerce.refund_rejected")
    assert told.data["note"] == "Most of the course was watched."
    with pytest.raises(Conflict):
        decide_refund(admin, reload(refund), approve=True)


def test_only_finance_admins_decide_refunds(order, learner, creator):
    refund = refund_request(learner, order, days_after=45)
    for someone in (learner, creator):
        with pytest.raises(NotAllowed):
            decide_refund(someone, refund, approve=True)
    assert reload(refund).status == "requested"


def test_approving_a_refund_for_a_sale_already_reversed_sends_nothing(order, learner, admin):
    """The bank took the money back (a lost chargeback) while the request waited."""
    refund = refund_request(learner, order, days_after=45)
    book_reversal(reload(order), 2999, key="chargeback:test", kind="chargeback", memo="lost",
                  now=order.paid_at + timedelta(days=50))
    db.session.commit()
    with pytest.raises(Conflict):
        decide_refund(admin, reload(refund), approve=True)
    db.session.rollback()
    assert keys("refund:") == []
    assert reload(refund).status == "requested"
    assert ledger.balance(ledger.gateway_account("stripe")) == 0


# --- bad requests ---------------------------------------------------------------------------

def test_someone_elses_purchase_is_not_found(order, creator, make_user):
    for someone in (make_user(), creator):
        with pytest.raises(NotFound):
            request_refund(someone, order, reason="mine now")
    assert db.session.scalar(sa.select(Refund.id)) is None


def test_an_unpaid_order_cannot_be_refunded(learner, creator):
    order = checkout(learner, paid_course(creator))
    with pytest.raises(Conflict):
        request_refund(learner, order, reason="never paid")


def test_a_refunded_order_cannot_be_refunded_again(order, learner):
    refund_request(learner, order)
    with pytest.raises(Conflict):
        request_refund(learner, reload(order), reason="twice please")
    assert len(keys("refund:")) == 1


def test_a_second_request_while_one_is_queued_is_refused(order, learner):
    refund_request(learner, order, days_after=40)
    with pytest.raises(Conflict, match="already on its way"):
        request_refund(learner, reload(order), reason="again")


def test_a_refund_is_refused_while_a_dispute_is_open(order, learner):
    open_dispute(learner, order, reason="quality", message="Poor audio.")
    with pytest.raises(Conflict, match="open dispute"):
        request_refund(learner, order, reason="also a refund")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_refund_needs_a_reason(order, learner, reason):
    with pytest.raises(Invalid):
        request_refund(learner, order, reason=reason)
    assert db.session.scalar(sa.select(Refund.id)) is None


# --- where the money comes from --------------------------------------------------------------

def test_a_refund_while_held_comes_from_escrow(order, learner, creator):
    assert balances(creator) == {"escrow": 2549, "available": 0, "payout_in_flight": 0}
    refund = refund_request(learner, order)
    entries = {e.account.name: e.amount for e in ledger.find_transaction(f"refund:{refund.id}").entries}
    assert entries == {ledger.creator_account(creator.id, "escrow"): 2549,
                       ledger.COMMISSION: 450, ledger.gateway_account("stripe"): -2999}


def test_a_refund_after_release_comes_from_available(order, learner, creator):
    escrow.release(order, reason="completed")
    db.session.commit()
    refund = refund_request(learner, order)
    entries = {e.account.name: e.amount for e in ledger.find_transaction(f"refund:{refund.id}").entries}
    assert ledger.creator_account(creator.id, "available") in entries
    assert balances(creator) == NOTHING


def test_available_may_go_negative_and_is_recovered_from_later_sales(learner, creator, admin, make_user):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    course = paid_course(creator)
    order = buy(learner, course)
    connect_paypal(creator, email="creator@example.test")
    request_payout(creator, 2549)
    db.session.commit()  # the payout job runs (PayPal without credentials succeeds at once)
    assert balances(creator) == NOTHING

    refund_request(learner, order)
    assert balances(creator)["available"] == -2549
    assert reload(creator).balance == -2549
    assert ledger.check_invariants() == []
    with pytest.raises(Invalid):
        request_payout(creator, 2000)

    buy(make_user(), course)
    assert reload(creator).balance == 0  # the next sale paid the debt back


# --- the split of a reversal -----------------------------------------------------------------

def order_like(price: int, commission: int, *, refunded: int = 0, commission_refunded: int = 0) -> Order:
    return Order(price_minor=price, commission_minor=commission, creator_share_minor=price - commission,
                 refunded_minor=refunded, commission_refunded_minor=commission_refunded)


@pytest.mark.parametrize("price, commission, amount, split", [
    (2999, 450, 2999, (2549, 450)),
    (2999, 450, 1000, (850, 150)),    # 150.05 -> 150
    (200, 30, 10, (8, 2)),            # 1.5 exactly: half rounds up
    (200, 30, 5, (4, 1)),             # 0.75 -> 1
    (200, 30, 3, (3, 0)),             # 0.45 -> 0
    (2999, 0, 1500, (1500, 0)),
    (2999, 2999, 1000, (0, 1000)),
])
def test_reversal_split_is_proportional_and_rounded_half_up(price, commission, amount, split):
    assert reversal_split(order_like(price, commission), amount) == split


def test_reversal_split_never_returns_more_commission_than_was_kept():
    order = order_like(200, 30, refunded=190, commission_refunded=29)
    creator_part, commission_part = reversal_split(order, 10)
    assert commission_part == 1 and creator_part == 9


def test_a_sale_refunded_in_parts_returns_all_its_commission_and_no_more_than_the_share(learner, creator):
    """Three partial refunds each round the commission down (2/7 and 3/7 of 1 cent): the last
    one must still give back what is left, and the creator never gives back more than the
    creator's share."""
    order = buy(learner, paid_course(creator, price_minor=7))
    assert (order.commission_minor, order.creator_share_minor) == (1, 6)
    for n, amount in enumerate((2, 2, 3)):
        book_reversal(order, amount, key=f"refund:part-{n}", kind="refund", memo="part",
                      now=order.paid_at)
        assert 0 <= escrow.held_minor(order) == balances(creator)["escrow"]
        assert 0 <= order.commission_minor - order.commission_refunded_minor == platform_revenue()
    assert (order.status, order.refunded_minor, order.commission_refunded_minor) == ("refunded", 7, 1)
    assert balances(creator) == NOTHING and platform_revenue() == 0
    assert ledger.check_invariants() == []


def test_the_creator_never_gives_back_more_than_the_share_mid_way(learner, creator):
    """10 with 4 commission: six refunds of 1 round the commission to 0 and use up the share;
    the next 1 must come from the commission."""
    order = buy(learner, paid_course(creator, price_minor=10, commission_bps_override=4000))
    assert (order.commission_minor, order.creator_share_minor) == (4, 6)
    for n in range(7):
        book_reversal(order, 1, key=f"refund:one-{n}", kind="refund", memo="part", now=order.paid_at)
        assert escrow.held_minor(order) >= 0
        assert balances(creator)["escrow"] == escrow.held_minor(order)
    assert (order.refunded_minor, order.commission_refunded_minor) == (7, 1)
    assert ledger.check_invariants() == []
