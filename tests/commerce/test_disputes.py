"""Disputes (app/commerce/disputes.py): a learner's dispute freezes the sale's escrow; the
creator answers; an admin rules full refund, partial refund or reject, in writing. A bank
chargeback (`charge.dispute.created`) opens or links one, once, and its outcome is booked once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import escrow, ledger
from app.commerce.disputes import (
    access_dispute,
    dispute_queue,
    open_dispute,
    post_message,
    rule_on_dispute,
)
from app.commerce.models import Dispute, PaymentEvent, Refund
from app.commerce.refunds import request_refund
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.learning.queries import active_enrollment
from app.moderation.models import AuditLog
from tests.support.commerce import (
    balances,
    buy,
    checkout,
    deliver,
    dispute_closed,
    dispute_created,
    keys,
    paid_course,
    platform_revenue,
    uid,
)
from tests.support.rows import notifications

HELD = {"escrow": 2549, "available": 0, "payout_in_flight": 0}
NOTHING = {"escrow": 0, "available": 0, "payout_in_flight": 0}


def reload(obj):
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def order(learner, creator):
    return buy(learner, paid_course(creator))


@pytest.fixture
def dispute(order, learner):
    dispute = open_dispute(learner, order, reason="not_as_described", message="Half the lessons are missing.")
    db.session.commit()
    return dispute


# --- opening and talking ---------------------------------------------------------------------

def test_opening_a_dispute_freezes_the_escrow_and_tells_the_creator(dispute, order, creator):
    assert reload(order).frozen
    assert (dispute.status, dispute.source, dispute.reason) == ("open", "learner", "not_as_described")
    assert [(m.role, m.body) for m in dispute.messages] == [("learner", "Half the lessons are missing.")]
    [told] = notifications(creator, "commerce.dispute_opened")
    assert told.data["dispute_id"] == dispute.id
    assert escrow.release_due(now=order.paid_at + timedelta(days=365)) == 0
    assert balances(creator) == HELD
    assert dispute in dispute_queue()
    assert dispute_queue(after=(dispute.created_at, dispute.id - 1), limit=1) == [dispute]
    assert dispute_queue(after=(dispute.created_at, dispute.id)) == []


def test_someone_elses_purchase_cannot_be_disputed(order, creator, make_user):
    for someone in (make_user(), creator):
        with pytest.raises(NotFound):
            open_dispute(someone, order, reason="quality", message="Mine")
    assert not reload(order).frozen


def test_an_unpaid_purchase_cannot_be_disputed(learner, creator):
    order = checkout(learner, paid_course(creator))
    with pytest.raises(Conflict):
        open_dispute(learner, order, reason="quality", message="Never paid")


@pytest.mark.parametrize("reason, message", [("because", "Hello"), ("quality", ""), ("quality", "  "),
                                             ("quality", "x" * 5001)])
def test_a_dispute_needs_a_listed_reason_and_a_message(order, learner, reason, message):
    with pytest.raises(Invalid):
        open_dispute(learner, order, reason=reason, message=message)
    db.session.rollback()
    assert not reload(order).frozen
    assert db.session.scalar(sa.select(Dispute.id)) is None


def test_one_open_dispute_per_purchase(dispute, order, learner):
    with pytest.raises(Conflict):
        open_dispute(learner, reload(order), reason="quality", message="Again")


def test_a_dispute_cannot_be_opened_while_a_refund_is_on_its_way(order, learner):
    """Otherwise a full-refund ruling would ask the provider to refund the sale a second time."""
    refund = request_refund(learner, order, reason="Not for me", now=order.paid_at)
    assert refund.status == "approved"  # sent to the gateway; its confirmation comes later
    with pytest.raises(Conflict):
        open_dispute(learner, order, reason="quality", message="And a dispute")


def test_the_creator_answers_and_the_learner_is_told(dispute, learner, creator):
    post_message(creator, dispute, body="Section 2 is there, under Extras.")
    db.session.commit()
    assert [m.role for m in reload(dispute).messages] == ["learner", "creator"]
    assert len(notifications(learner, "commerce.dispute_message")) == 1


def test_the_three_parties_see_the_dispute_and_nobody_else(dispute, learner, creator, admin, make_user):
    for party in (learner, creator, admin):
        assert access_dispute(party, dispute.id) == dispute
    outsider = make_user()
    with pytest.raises(NotFound):
        access_dispute(outsider, dispute.id)
    with pytest.raises(NotFound):
        post_message(outsider, dispute, body="Let me in")


# --- the ruling -----------------------------------------------------------------------------

def test_a_full_refund_ruling_reverses_the_sale(dispute, order, learner, creator, admin):
    rule_on_dispute(admin, dispute, ruling="full_refund", decision="The course is incomplete.")
    db.session.commit()
    dispute, order = reload(dispute), reload(order)
    assert (dispute.status, dispute.ruling, dispute.refund_minor) == ("ruled", "full_refund", 2999)
    assert dispute.messages[-1].role == "admin" and dispute.closed_at is not None
    assert (order.status, order.frozen, order.refunded_minor) == ("refunded", False, 2999)
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.status == "succeeded" and keys("refund:") == [f"refund:{refund.id}"]
    assert balances(creator) == NOTHING and platform_revenue() == 0
    assert active_enrollment(learner, order.course) is None
    for person in (learner, creator):
        assert notifications(person, "commerce.dispute_ruled")[-1].data["ruling"] == "full_refund"
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "dispute")) == "dispute.ruled"
    assert ledger.check_invariants() == []


def test_a_partial_refund_ruling_refunds_that_much_and_keeps_the_rest_held(dispute, order, learner, creator, admin):
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=1000, decision="Some lessons are thin.")
    db.session.commit()
    order = reload(order)
    assert (order.status, order.frozen, order.refunded_minor, order.commission_refunded_minor) == \
        ("paid", False, 1000, 150)
    assert balances(creator) == {"escrow": 2549 - 850, "available": 0, "payout_in_flight": 0}
    assert platform_revenue() == 300
    assert active_enrollment(learner, order.course) is not None
    assert escrow.release_due(now=order.paid_at + timedelta(days=30)) == 1
    assert balances(creator) == {"escrow": 0, "available": 1699, "payout_in_flight": 0}
    assert ledger.check_invariants() == []


@pytest.mark.parametrize("amount", [None, 0, -5, 2999, 3000])
def test_a_partial_refund_is_more_than_nothing_and_less_than_the_price(dispute, order, admin, amount):
    with pytest.raises(Invalid):
        rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=amount, decision="Hmm")
    db.session.rollback()
    assert reload(dispute).status == "open" and reload(order).frozen
    assert keys("refund:") == []


def test_a_rejected_dispute_moves_no_money_and_unfreezes(dispute, order, creator, admin):
    rule_on_dispute(admin, dispute, ruling="rejected", decision="The course matches its description.")
    db.session.commit()
    assert reload(dispute).ruling == "rejected" and not reload(order).frozen
    assert keys("refund:") == [] and balances(creator) == HELD
    assert escrow.release_due(now=order.paid_at + timedelta(days=30)) == 1


@pytest.mark.parametrize("ruling, decision", [("maybe", "Hmm"), ("rejected", ""), ("rejected", "  ")])
def test_a_ruling_needs_a_known_outcome_and_a_written_decision(dispute, admin, ruling, decision):
    with pytest.raises(Invalid):
        rule_on_dispute(admin, dispute, ruling=ruling, decision=decision)
    db.session.rollback()
    assert reload(dispute).status == "open"


def test_only_finance_admins_rule_and_only_once(dispute, learner, creator, admin):
    for someone in (learner, creator):
        with pytest.raises(NotAllowed):
            rule_on_dispute(someone, dispute, ruling="full_refund", decision="Mine")
    rule_on_dispute(admin, dispute, ruling="rejected", decision="No.")
    with pytest.raises(Conflict):
        rule_on_dispute(admin, dispute, ruling="full_refund", decision="Changed my mind")
    with pytest.raises(Conflict):
        post_message(learner, dispute, body="But...")


# --- chargebacks ------------------------------------------------------------------------------

def test_a_chargeback_opens_a_dispute_once(order, creator):
    dispute_id = uid("dp")
    deliver(dispute_created(order, dispute_id=dispute_id))
    second, created = deliver(dispute_created(order, dispute_id=dispute_id))  # a new event, same dispute
    assert created and second.status == "applied"
    [dispute] = db.session.scalars(sa.select(Dispute)).all()
    assert (dispute.source, dispute.stripe_dispute_id, dispute.status) == ("chargeback", dispute_id, "open")
    assert dispute.opened_by_id is None and dispute.messages[0].role == "system"
    assert reload(order).frozen
    assert len(notifications(creator, "commerce.dispute_opened")) == 1


def test_a_chargeback_links_the_learners_open_dispute(dispute, order, admin):
    dispute_id = uid("dp")
    deliver(dispute_created(order, dispute_id=dispute_id))
    [linked] = db.session.scalars(sa.select(Dispute)).all()
    assert linked.id == dispute.id and linked.source == "chargeback"
    assert linked.stripe_dispute_id == dispute_id
    with pytest.raises(Conflict):  # the bank decides now
        rule_on_dispute(admin, linked, ruling="full_refund", decision="Refund")


def test_a_chargeback_won_unfreezes_and_moves_no_money(order, creator):
    dispute_id = uid("dp")
    deliver(dispute_created(order, dispute_id=dispute_id))
    deliver(dispute_closed(order, dispute_id=dispute_id, won=True))
    dispute = db.session.scalar(sa.select(Dispute))
    assert dispute.status == "won" and dispute.closed_at is not None
    assert not reload(order).frozen and reload(order).status == "paid"
    assert keys("chargeback:") == [] and balances(creator) == HELD
    assert escrow.release_due(now=order.paid_at + timedelta(days=30)) == 1


def test_a_chargeback_lost_books_the_reversal_once(order, learner, creator):
    dispute_id = uid("dp")
    deliver(dispute_created(order, dispute_id=dispute_id))
    deliver(dispute_closed(order, dispute_id=dispute_id, won=False))
    again, created = deliver(dispute_closed(order, dispute_id=dispute_id, won=False))
    assert created and again.status == "applied"
    dispute = db.session.scalar(sa.select(Dispute))
    assert dispute.status == "lost" and keys("chargeback:") == [f"chargeback:{dispute.id}"]
    order = reload(order)
    assert (order.status, order.frozen, order.refunded_minor, order.commission_refunded_minor) == \
        ("refunded", False, 2999, 450)
    assert balances(creator) == NOTHING and platform_revenue() == 0
    assert active_enrollment(learner, order.course) is None
    for person in (learner, creator):
        assert notifications(person, "commerce.dispute_ruled")[-1].data["ruling"] == "lost"
    assert ledger.check_invariants() == []


def test_a_chargeback_lost_after_release_comes_from_available(order, creator):
    escrow.release(order, reason="completed")
    db.session.commit()
    dispute_id = uid("dp")
    deliver(dispute_created(order, dispute_id=dispute_id))
    deliver(dispute_closed(order, dispute_id=dispute_id, won=False))
    assert balances(creator) == NOTHING
    assert ledger.check_invariants() == []


def test_a_chargeback_lost_after_a_partial_refund_takes_back_only_the_rest(dispute, order, creator, admin):
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=1000, decision="Partly fair.")
    db.session.commit()
    dispute_id = uid("dp")
    deliver(dispute_created(reload(order), dispute_id=dispute_id))
    deliver(dispute_closed(reload(order), dispute_id=dispute_id, won=False))
    order = reload(order)
    assert (order.status, order.refunded_minor, order.commission_refunded_minor) == ("refunded", 2999, 450)
    assert balances(creator) == NOTHING and platform_revenue() == 0
    assert ledger.balance(ledger.gateway_account("stripe")) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent)) >= 3
