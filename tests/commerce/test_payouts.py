"""Payouts (app/commerce/payouts.py): a creator withdraws from `available`; the money moves to
`payout_in_flight` at once; the job pays it through the provider with an idempotency key;
success settles, failure or rejection returns the money; above a threshold an admin approves."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.models import Payout, PayoutAccount
from app.commerce.payouts import (
    approval_queue,
    approve_payout,
    begin_payout,
    connect_paypal,
    reject_payout,
    request_payout,
    send_payout,
)
from app.commerce.settings import set_setting
from app.errors import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.moderation.models import AuditLog
from app.moderation.suspensions import suspend_user
from tests.support.commerce import STRIPE_API, balances, buy, deliver, keys, paid_course, stripe_event, uid
from tests.support.rows import notifications

STRIPE = ledger.gateway_account("stripe")


def reload(obj):
    return db.session.get(type(obj), obj.id)


def payouts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Payout))


@pytest.fixture
def earning(learner, creator, admin, make_user):
    """The creator has 2 × 25.49 available (no escrow) and a PayPal account."""
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    course = paid_course(creator)
    buy(learner, course)
    buy(make_user(), course)
    connect_paypal(creator, email="creator@example.test")
    db.session.commit()
    assert balances(creator) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    return creator


@pytest.fixture
def stripe_account(earning):
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == earning.id))
    account.provider, account.external_id, account.status = "stripe", "acct_test_creator", "active"
    db.session.commit()
    return account


def transfer_json(payout_id: int, amount: int, transfer_id: str = "tr_test_1") -> dict:
    return {"id": transfer_id, "object": "transfer", "amount": amount, "currency": "usd",
            "destination": "acct_test_creator", "metadata": {"payout_id": str(payout_id)}}


# --- asking ---------------------------------------------------------------------------------

def test_a_payout_moves_the_money_in_flight_then_settles(earning):
    payout = request_payout(earning, 3000)
    assert payout.status == "queued" and (payout.provider, payout.destination) == ("paypal", "creator@example.test")
    assert balances(earning) == {"escrow": 0, "available": 2098, "payout_in_flight": 3000}
    assert earning.balance == 2098
    db.session.commit()  # the payout job runs after this commit
    payout = reload(payout)
    assert payout.status == "paid" and payout.settled_at is not None and payout.external_id
    assert balances(earning) == {"escrow": 0, "available": 2098, "payout_in_flight": 0}
    assert keys("payout-") == [f"payout-request:{payout.id}", f"payout-settled:{payout.id}"]
    [told] = notifications(earning, "commerce.payout_sent")
    assert told.data["amount"] == 3000
    assert ledger.check_invariants() == []


def test_below_the_minimum_is_refused(earning):
    with pytest.raises(Invalid, match="smallest withdrawal is 20.00"):
        request_payout(earning, 1999)
    assert payouts() == 0 and keys("payout-") == []


@pytest.mark.parametrize("amount", [0, -1, -5000, 20.5, "3000", None, 3000.0])
def test_zero_negative_and_non_whole_amounts_are_refused(earning, amount):
    with pytest.raises(Invalid):
        request_payout(earning, amount)
    assert payouts() == 0 and balances(earning)["available"] == 5098


def test_more_than_available_is_refused_and_nothing_moves(earning):
    with pytest.raises(Invalid, match="at most 50.98"):
        request_payout(earning, 5099)
    assert payouts() == 0 and keys("payout-") == []
    assert balances(earning) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}


def test_exactly_everything_available_can_be_withdrawn(earning):
    request_payout(earning, 5098)
    db.session.commit()
    assert balances(earning) == {"escrow": 0, "available": 0, "payout_in_flight": 0}
    assert reload(earning).balance == 0


def test_escrow_cannot_be_withdrawn(learner, creator):
    buy(learner, paid_course(creator))
    connect_paypal(creator, email="creator@example.test")
    with pytest.raises(Invalid, match="at most 0.00"):
        request_payout(creator, 2000)


def test_two_payouts_cannot_add_up_to_more_than_available(earning):
    request_payout(earning, 3000)
    with pytest.raises(Invalid, match="at most 20.98"):
        request_payout(earning, 3000)
    assert payouts() == 1


def test_no_payout_account_is_a_conflict(learner, creator, admin):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    buy(learner, paid_course(creator))
    with pytest.raises(Conflict, match="Connect a Stripe or PayPal"):
        request_payout(creator, 2000)
    db.session.add(PayoutAccount(user_id=creator.id, provider="stripe", external_id="acct_test_new",
                                 status="pending"))
    with pytest.raises(Conflict):
        request_payout(creator, 2000)
    assert payouts() == 0 and balances(creator)["available"] == 2549


def test_a_suspended_creator_cannot_withdraw(earning, admin):

    suspend_user(admin, earning, reason="fraud")
    with pytest.raises(NotAllowed):
        request_payout(earning, 2000)


# --- approval -------------------------------------------------------------------------------

@pytest.fixture
def big(earning, admin):
    set_setting(admin, "payouts", {"minimum_minor": 2000, "approval_threshold_minor": 4000})
    payout = request_payout(earning, 5000)
    db.session.commit()
    return reload(payout)


def test_above_the_threshold_a_payout_waits_for_approval(big, earning):
    assert big.status == "awaiting_approval"
    assert big in approval_queue()
    assert approval_queue(limit=1) == [big]
    assert approval_queue(after=(big.created_at, big.id)) == []
    assert approval_queue(after=(big.created_at, big.id - 1)) == [big]
    assert balances(earning) == {"escrow": 0, "available": 98, "payout_in_flight": 5000}
    assert keys("payout-settled:") == []


def test_an_approved_payout_is_sent(big, earning, admin):
    approve_payout(admin, big)
    db.session.commit()
    big = reload(big)
    assert big.status == "paid" and big.approved_by_id == admin.id
    assert balances(earning) == {"escrow": 0, "available": 98, "payout_in_flight": 0}
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_type == "payout")) == "payout.approved"


def test_a_rejected_payout_returns_the_money(big, earning, admin):
    reject_payout(admin, big, reason="Verify your identity first.")
    db.session.commit()
    big = reload(big)
    assert big.status == "rejected" and big.failure_reason == "Verify your identity first."
    assert balances(earning) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert reload(earning).balance == 5098
    assert keys("payout-") == [f"payout-request:{big.id}", f"payout-returned:{big.id}"]
    assert notifications(earning, "commerce.payout_failed")[-1].data["reason"] == "Verify your identity first."
    assert ledger.check_invariants() == []


def test_approval_rules(big, earning, admin):
    with pytest.raises(NotAllowed):
        approve_payout(earning, big)
    with pytest.raises(NotAllowed):
        reject_payout(earning, big, reason="no")
    with pytest.raises(Invalid):
        reject_payout(admin, big, reason=" ")
    reject_payout(admin, big, reason="No.")
    with pytest.raises(Conflict):
        approve_payout(admin, big)
    with pytest.raises(Conflict):
        reject_payout(admin, big, reason="Twice")
    assert keys("payout-returned:") == [f"payout-returned:{big.id}"]


# --- the provider ---------------------------------------------------------------------------

def test_a_stripe_transfer_that_fails_returns_the_money(stripe_account, earning, fake_stripe):
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", status=400, json={"error": {
        "type": "invalid_request_error", "code": "balance_insufficient",
        "message": "You have insufficient available funds in your Stripe account."}})
    payout = request_payout(earning, 3000)
    db.session.commit()
    payout = reload(payout)
    assert payout.status == "failed" and "insufficient available funds" in payout.failure_reason
    assert balances(earning) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert reload(earning).balance == 5098
    assert keys("payout-settled:") == [] and keys("payout-returned:") == [f"payout-returned:{payout.id}"]
    assert "insufficient available funds" in notifications(earning, "commerce.payout_failed")[-1].data["reason"]
    assert len(fake_stripe.calls) == 1
    assert ledger.check_invariants() == []


def test_a_stripe_transfer_that_succeeds_settles(stripe_account, earning, fake_stripe):
    payout = request_payout(earning, 3000)
    db.session.flush()
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", json=transfer_json(payout.id, 3000, "tr_test_ok"))
    db.session.commit()
    payout = reload(payout)
    assert (payout.status, payout.external_id) == ("paid", "tr_test_ok")
    assert ledger.balance(STRIPE) == 5998 - 3000  # two sales of 29.99, one payout
    assert fake_stripe.calls[0].request.headers["Idempotency-Key"] == f"payout-{payout.id}"


def test_a_send_retried_after_a_crash_pays_once(stripe_account, earning, fake_stripe):
    payout = request_payout(earning, 3000)
    db.session.flush()
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", json=transfer_json(payout.id, 3000, "tr_test_once"))
    begin_payout(payout.id)
    crashed = db.session.begin_nested()
    send_payout(payout.id)  # the provider is paid ...
    crashed.rollback()       # ... and the worker dies before committing
    assert reload(payout).status == "processing" and keys("payout-settled:") == []

    begin_payout(payout.id)  # the job runs again
    send_payout(payout.id)
    send_payout(payout.id)   # and once more, for good measure
    db.session.commit()      # the job enqueued by the request runs too: nothing left to do
    payout = reload(payout)
    assert payout.status == "paid" and payout.external_id == "tr_test_once"
    assert keys("payout-settled:") == [f"payout-settled:{payout.id}"]
    assert balances(earning) == {"escrow": 0, "available": 2098, "payout_in_flight": 0}
    assert len(fake_stripe.calls) == 2  # the provider saw the same idempotency key twice
    assert {call.request.headers["Idempotency-Key"] for call in fake_stripe.calls} == {f"payout-{payout.id}"}
    assert ledger.balance(STRIPE) == 5998 - 3000
    assert ledger.check_invariants() == []


def test_sending_a_payout_not_yet_begun_or_already_settled_does_nothing(earning):
    payout = request_payout(earning, 3000)
    send_payout(payout.id)  # still queued: the job marks it processing first
    assert payout.status == "queued" and keys("payout-settled:") == []
    db.session.commit()
    send_payout(payout.id)
    begin_payout(payout.id)
    assert keys("payout-settled:") == [f"payout-settled:{payout.id}"]


def test_a_transfer_reversed_by_stripe_gives_the_money_back(stripe_account, earning, fake_stripe):
    payout = request_payout(earning, 3000)
    db.session.flush()
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", json=transfer_json(payout.id, 3000, "tr_test_rev"))
    db.session.commit()
    event = stripe_event("transfer.reversed", {"id": "tr_test_rev", "object": "transfer", "amount": 3000,
                                               "amount_reversed": 3000, "reversed": True})
    deliver(event)
    deliver({**event, "id": uid("evt")})  # told twice
    assert reload(payout).status == "failed"
    assert balances(earning) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert keys("payout-reversed:") == [f"payout-reversed:{payout.id}"]
    assert ledger.check_invariants() == []
