"""What a provider's events do (app/commerce/provider_events.py): real signed Stripe-shaped
payloads applied to orders, refunds, disputes and payout accounts, whatever the order they
arrive in, and reconciliation of events that never arrived (ARCHITECTURE §6)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.models import Dispute, Order, PaymentEvent, PayoutAccount, Refund
from app.commerce.payment_gateway import get_gateway
from app.commerce.payouts import connect_stripe
from app.commerce.provider_events import reconcile_stripe
from app.commerce.webhooks import failed_events, retry_waiting_events
from app.extensions import db
from app.learning.queries import active_enrollment
from tests.support.commerce import (
    STRIPE_API,
    account_updated,
    charge_refunded,
    checkout,
    checkout_async,
    checkout_completed,
    checkout_expired,
    deliver,
    dispute_closed,
    dispute_created,
    keys,
    paid_course,
    stripe_confirms,
    stripe_event,
    uid,
)


@pytest.fixture
def order(learner, creator):
    order = checkout(learner, paid_course(creator))
    db.session.commit()
    return order


# --- out of order ----------------------------------------------------------------------------

def test_a_refund_before_its_checkout_is_parked_then_applied(order, learner, creator):
    payment_intent = uid("pi")
    refund_event, _ = deliver(charge_refunded(order, amount=order.price_minor, payment_intent=payment_intent))
    assert refund_event.status == "parked" and "unknown or unpaid" in refund_event.last_error
    assert refund_event in failed_events()
    assert keys("") == []

    deliver(checkout_completed(order, payment_intent=payment_intent))
    assert keys("sale:") == [f"sale:{order.id}"]
    assert retry_waiting_events() == 1
    db.session.commit()  # the re-enqueued job runs after this commit

    assert db.session.get(PaymentEvent, refund_event.id).status == "applied"
    order = db.session.get(Order, order.id)
    assert (order.status, order.refunded_minor, order.commission_refunded_minor) == ("refunded", 2999, 450)
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.status == "succeeded" and refund.reason == "Refunded at the provider"
    assert keys("refund:") == [f"refund:{refund.id}"]
    assert active_enrollment(learner, order.course) is None
    assert ledger.creator_balances(creator.id) == {"escrow": 0, "available": 0, "payout_in_flight": 0}
    assert ledger.balance(ledger.COMMISSION) == 0
    assert ledger.check_invariants() == []
    assert retry_waiting_events() == 0


def test_a_chargeback_before_its_checkout_is_parked_then_opens_a_dispute(order):
    payment_intent, dispute_id = uid("pi"), uid("dp")
    parked, _ = deliver(dispute_created(order, dispute_id=dispute_id, payment_intent=payment_intent))
    assert parked.status == "parked"
    assert db.session.scalar(sa.select(Dispute.id)) is None

    deliver(checkout_completed(order, payment_intent=payment_intent))
    retry_waiting_events()
    db.session.commit()

    assert db.session.get(PaymentEvent, parked.id).status == "applied"
    dispute = db.session.scalar(sa.select(Dispute).where(Dispute.stripe_dispute_id == dispute_id))
    assert dispute.source == "chargeback" and dispute.status == "open"
    assert db.session.get(Order, order.id).frozen


def test_closing_an_unknown_chargeback_is_parked(order):
    buy_event, _ = deliver(checkout_completed(order))
    parked, _ = deliver(dispute_closed(db.session.get(Order, order.id), dispute_id=uid("dp"), won=False))
    assert parked.status == "parked"
    assert keys("chargeback:") == []


# --- checkout outcomes ---------------------------------------------------------------------

def test_a_delayed_payment_waits_for_its_outcome_then_succeeds(order, learner):
    payment_intent = uid("pi")
    deliver(checkout_completed(order, payment_intent=payment_intent, payment_status="unpaid"))
    waiting = db.session.get(Order, order.id)
    assert waiting.status == "pending" and waiting.payment_intent_id == payment_intent
    assert keys("sale:") == []
    assert active_enrollment(learner, waiting.course) is None

    stored, _ = deliver(checkout_async(waiting, "succeeded", payment_intent=payment_intent))
    assert stored.status == "applied"
    paid = db.session.get(Order, order.id)
    assert paid.status == "paid" and paid.payment_intent_id == payment_intent
    assert keys("sale:") == [f"sale:{order.id}"]
    assert active_enrollment(learner, paid.course) is not None


def test_a_delayed_payment_that_fails_books_nothing(order, learner):
    payment_intent = uid("pi")
    deliver(checkout_completed(order, payment_intent=payment_intent, payment_status="unpaid"))
    deliver(checkout_async(db.session.get(Order, order.id), "failed", payment_intent=payment_intent))
    failed = db.session.get(Order, order.id)
    assert failed.status == "failed" and failed.paid_at is None
    assert keys("") == []
    assert active_enrollment(learner, failed.course) is None


def test_the_success_arriving_before_the_completed_checkout_is_booked_once(order):
    payment_intent = uid("pi")
    deliver(checkout_async(order, "succeeded", payment_intent=payment_intent))
    deliver(checkout_completed(db.session.get(Order, order.id), payment_intent=payment_intent,
                               payment_status="unpaid"))
    assert db.session.get(Order, order.id).status == "paid"
    assert keys("sale:") == [f"sale:{order.id}"]


def test_an_expired_checkout_expires_the_pending_order(order):
    stored, _ = deliver(checkout_expired(order))
    assert stored.status == "applied"
    assert db.session.get(Order, order.id).status == "expired"
    assert keys("") == []


def test_an_expiry_arriving_after_the_payment_changes_nothing(order):
    deliver(checkout_completed(order))
    deliver(checkout_expired(db.session.get(Order, order.id)))
    assert db.session.get(Order, order.id).status == "paid"
    assert keys("sale:") == [f"sale:{order.id}"]


def test_a_payment_after_the_session_expired_is_still_booked(order, learner):
    """The provider took the money: the buyer gets the course."""
    deliver(checkout_expired(order))
    deliver(checkout_completed(db.session.get(Order, order.id)))
    assert db.session.get(Order, order.id).status == "paid"
    assert active_enrollment(learner, order.course) is not None


def test_a_completed_checkout_for_an_order_we_do_not_know_is_parked(order):
    event = checkout_completed(order)
    event["data"]["object"].update(id=uid("cs"), metadata={}, client_reference_id=None)
    stored, _ = deliver(event)
    assert stored.status == "parked"
    assert db.session.get(Order, order.id).status == "pending"


# --- connected accounts ----------------------------------------------------------------------

def test_account_updated_activates_a_payout_account(creator):
    account = PayoutAccount(user_id=creator.id, provider="stripe", external_id=uid("acct"), status="pending")
    db.session.add(account)
    db.session.commit()
    deliver(account_updated(account.external_id, ready=False))
    assert db.session.get(PayoutAccount, account.id).status == "restricted"
    deliver(account_updated(account.external_id, ready=True))
    assert db.session.get(PayoutAccount, account.id).status == "active"


def test_onboarding_with_the_local_gateway_activates_through_the_same_event(app, creator):
    with app.test_request_context():
        connect_stripe(creator, return_url="http://x/return", refresh_url="http://x/refresh")
    db.session.commit()
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id))
    assert account.provider == "stripe" and account.status == "active"
    stored = db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.type == "account.updated"))
    assert stored.status == "applied" and stored.payload["data"]["object"]["id"] == account.external_id


def test_an_update_for_an_account_we_do_not_know_is_parked():
    stored, _ = deliver(account_updated(uid("acct")))
    assert stored.status == "parked"


# --- reconciliation -------------------------------------------------------------------------

def test_reconciling_stores_local_gateway_events_that_never_arrived(app, order):
    savepoint = db.session.begin_nested()
    event = get_gateway().pay(db.session.get(Order, order.id))  # the provider sent it ...
    savepoint.rollback()  # ... and we lost it
    assert db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.event_id == event["id"])) is None

    assert reconcile_stripe() >= 1
    stored = db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.event_id == event["id"]))
    assert stored.status == "pending" and stored.payload["data"]["object"]["id"] == order.checkout_session_id
    assert reconcile_stripe() == 0  # everything it lists is stored now


def test_the_local_gateways_event_log_belongs_to_its_deployment(app, order, monkeypatch):
    """Two deployments (or test runs) sharing a Redis never reconcile each other's events."""
    event = get_gateway().pay(db.session.get(Order, order.id))
    assert event["id"] in {e["id"] for e in get_gateway().recent_events(since_ts=0)}
    monkeypatch.setitem(app.config, "CHANNEL_PREFIX", f"{app.config['CHANNEL_PREFIX']}-another")
    assert get_gateway().recent_events(since_ts=0) == []


def test_reconciling_stores_stripe_events_that_never_arrived_and_applies_them(order, fake_stripe):
    known = checkout_expired(order)
    deliver(stripe_event("customer.created", {"id": uid("cus")}, event_id="evt_known"))
    missed = checkout_completed(order)
    fake_stripe.get(f"{STRIPE_API}/v1/events", json={
        "object": "list", "url": "/v1/events", "has_more": False,
        "data": [missed, {**known, "id": "evt_known"}]})
    stripe_confirms(fake_stripe, missed)  # applying it asks Stripe, like any delivery
    assert reconcile_stripe(days=3) == 1
    call = fake_stripe.calls[0]
    assert "created%5Bgte%5D=" in call.request.url and "limit=100" in call.request.url
    db.session.commit()
    stored = db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.event_id == missed["id"]))
    assert stored.status == "applied"
    assert db.session.get(Order, order.id).status == "paid"
