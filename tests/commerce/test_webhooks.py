"""Provider events (app/commerce/webhooks.py, handlers.py): real signed Stripe-shaped payloads,
verified, stored once, applied once by the job, whatever the order and however often they
arrive (ARCHITECTURE §6)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.errors import BadSignature
from app.commerce.models import Dispute, Order, PaymentEvent, PayoutAccount, Refund
from app.commerce.payment_gateway import get_gateway
from app.commerce.payouts import connect_stripe
from app.commerce.provider_events import apply_event, reconcile_stripe
from app.commerce.webhooks import failed_events, receive_stripe, retry_event, retry_waiting_events
from app.dbtypes import utcnow
from app.errors import NotAllowed
from app.extensions import db
from app.learning.models import Enrollment
from app.learning.queries import active_enrollment
from app.moderation.suspensions import suspend_user, unsuspend_user
from tests.support.commerce import (
    STRIPE_API,
    account_updated,
    charge_refunded,
    checkout,
    checkout_async,
    checkout_completed,
    checkout_expired,
    deliver,
    dispute_created,
    keys,
    paid_course,
    signed,
    stripe_confirms,
    stripe_event,
    uid,
)
from tests.support.rows import notifications


def stored_events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PaymentEvent))


def enrollments(learner, course) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
        Enrollment.learner_id == learner.id, Enrollment.course_id == course.id))


@pytest.fixture
def order(learner, creator):
    order = checkout(learner, paid_course(creator))
    db.session.commit()
    return order


# --- the signature ---------------------------------------------------------------------------

def test_a_signed_event_is_stored_and_applied(order, learner):
    event = checkout_completed(order)
    stored, created = deliver(event)
    assert created and stored.event_id == event["id"] and stored.provider == "stripe"
    assert stored.type == "checkout.session.completed" and stored.payload == event
    assert (stored.status, stored.attempts, stored.last_error) == ("applied", 1, "")
    assert db.session.get(Order, order.id).status == "paid"
    assert active_enrollment(learner, order.course) is not None


def test_a_forged_signature_stores_nothing(order):
    with pytest.raises(BadSignature):
        deliver(checkout_completed(order), secret="whsec_someone_else")
    assert stored_events() == 0
    assert db.session.get(Order, order.id).status == "pending"


def test_a_payload_changed_after_signing_stores_nothing(order):
    payload, signature = signed(checkout_completed(order))
    tampered = payload.replace(b'"amount_total": 2999', b'"amount_total": 1')
    assert tampered != payload
    with pytest.raises(BadSignature):
        receive_stripe(tampered, signature)
    assert stored_events() == 0


@pytest.mark.parametrize("signature", [None, "", "t=123", "v1=abc", "garbage"])
def test_a_missing_or_malformed_signature_stores_nothing(order, signature):
    payload, _ = signed(checkout_completed(order))
    with pytest.raises(BadSignature):
        receive_stripe(payload, signature)
    assert stored_events() == 0


def test_a_stale_signature_stores_nothing(order):
    with pytest.raises(BadSignature):
        deliver(checkout_completed(order), timestamp=int(time.time()) - 301)
    assert stored_events() == 0


def test_a_signature_just_inside_the_five_minute_tolerance_is_accepted(order):
    _, created = deliver(checkout_completed(order), timestamp=int(time.time()) - 290)
    assert created and stored_events() == 1


def test_a_payload_that_is_not_json_is_refused(app):
    from app.commerce.gateways.signing import sign

    payload = b"not json"
    with pytest.raises(BadSignature):
        receive_stripe(payload, sign(payload, app.config["STRIPE_WEBHOOK_SECRET"]))
    assert stored_events() == 0


# --- exactly once ----------------------------------------------------------------------------

def test_a_duplicate_delivery_stores_nothing_new_and_applies_nothing_twice(order, learner, creator):
    event = checkout_completed(order)
    first, created = deliver(event)
    again, created_again = deliver(event)
    assert created and not created_again and again.id == first.id
    assert stored_events() == 1
    assert db.session.get(PaymentEvent, first.id).attempts == 1
    assert keys("sale:") == [f"sale:{order.id}"]
    assert enrollments(learner, order.course) == 1
    assert len(notifications(creator, "commerce.sale")) == 1
    assert len(notifications(learner, "commerce.receipt")) == 1
    assert ledger.balance(ledger.COMMISSION) == 450
    assert ledger.check_invariants() == []


def test_the_same_payment_told_twice_under_two_event_ids_is_booked_once(order, learner):
    payment_intent = uid("pi")
    deliver(checkout_completed(order, payment_intent=payment_intent))
    second, created = deliver(checkout_completed(order, payment_intent=payment_intent))
    assert created and second.status == "applied"
    assert keys("sale:") == [f"sale:{order.id}"]
    assert ledger.balance(ledger.gateway_account("stripe")) == order.price_minor
    assert enrollments(learner, order.course) == 1


def test_applying_an_applied_event_again_changes_nothing(order):
    stored, _ = deliver(checkout_completed(order))
    assert apply_event(stored.id) == "applied"
    assert db.session.get(PaymentEvent, stored.id).attempts == 1
    assert keys("sale:") == [f"sale:{order.id}"]
    assert apply_event(stored.id + 999) == "missing"


def test_an_unknown_event_type_is_stored_and_ignored(order):
    event = stripe_event("customer.created", {"id": uid("cus"), "object": "customer"})
    stored, created = deliver(event)
    assert created and stored.type == "customer.created"
    assert stored.status == "ignored" and stored.applied_at is not None
    assert stored not in failed_events()
    assert ledger.check_invariants() == [] and keys("") == []



def test_a_refund_reference_past_the_id_column_is_booked_as_a_new_refund(order):
    """Stripe's metadata is outside text: a `refund_id` no id column can hold must not reach
    the database (an overflow on PostgreSQL) but be read as "not one of ours"."""
    deliver(checkout_completed(order))
    stored, _ = deliver(charge_refunded(order, amount=order.price_minor, refund_id=10 ** 30))
    assert stored.status == "applied"
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.reason == "Refunded at the provider" and refund.amount_minor == order.price_minor
    assert ledger.check_invariants() == []

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
    from tests.support.commerce import dispute_closed

    parked, _ = deliver(dispute_closed(db.session.get(Order, order.id), dispute_id=uid("dp"), won=False))
    assert parked.status == "parked"
    assert keys("chargeback:") == []


def test_a_crash_between_storing_and_enqueueing_loses_nothing(order):
    """Stored and committed, but the job never ran: the periodic retry finds it."""
    event = checkout_completed(order)
    lost = PaymentEvent(provider="stripe", event_id=event["id"], type=event["type"], payload=event,
                        status="pending", received_at=utcnow() - timedelta(minutes=5))
    fresh = stripe_event("customer.created", {"id": uid("cus")})
    db.session.add_all([lost, PaymentEvent(provider="stripe", event_id=fresh["id"], type=fresh["type"],
                                           payload=fresh, status="pending", received_at=utcnow())])
    db.session.commit()
    assert db.session.get(Order, order.id).status == "pending"
    assert retry_waiting_events() == 1  # the fresh one is still on its way
    db.session.commit()
    assert db.session.get(PaymentEvent, lost.id).status == "applied"
    assert db.session.get(Order, order.id).status == "paid"


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


# --- failures and the admin's retry ---------------------------------------------------------

def test_a_payment_short_of_the_price_is_failed_and_retry_runs_it_again(order, admin):
    stored, _ = deliver(checkout_completed(order, amount=1))  # paid 0.01 for a 29.99 course
    assert stored.status == "failed"
    assert "PaymentNotConfirmed" in stored.last_error and "expected 2999" in stored.last_error
    assert stored.attempts == 1
    assert stored in failed_events()
    assert db.session.get(Order, order.id).status == "pending"
    assert keys("") == []

    retry_event(admin, stored.id)
    db.session.commit()
    again = db.session.get(PaymentEvent, stored.id)
    assert again.status == "failed" and again.attempts == 2  # still wrong: still failed


def test_a_payment_refused_by_a_rule_is_failed_and_retried_once_the_rule_allows_it(order, learner, admin):
    """The buyer was suspended between checkout and payment: enrolling them is refused. The
    event must show up in the failed list (not sit pending for ever), and apply on retry."""
    suspend_user(admin, learner, reason="chargeback fraud")
    db.session.commit()
    stored, _ = deliver(checkout_completed(order))
    assert stored.status == "failed" and stored.last_error
    assert stored in failed_events()
    assert keys("") == []

    unsuspend_user(admin, db.session.get(type(learner), learner.id))
    db.session.commit()
    retry_event(admin, stored.id)
    db.session.commit()
    assert db.session.get(PaymentEvent, stored.id).status == "applied"
    assert keys("sale:") == [f"sale:{order.id}"]


def test_only_finance_admins_retry_events(order, learner):
    stored, _ = deliver(checkout_completed(order, amount=1))
    with pytest.raises(NotAllowed):
        retry_event(learner, stored.id)


def test_retrying_an_applied_event_does_nothing(order, admin):
    stored, _ = deliver(checkout_completed(order))
    retry_event(admin, stored.id)
    db.session.commit()
    assert db.session.get(PaymentEvent, stored.id).attempts == 1
    assert keys("sale:") == [f"sale:{order.id}"]


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
