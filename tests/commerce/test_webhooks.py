"""Provider events in (app/commerce/webhooks.py): real signed Stripe-shaped payloads, verified,
stored once and applied once by the job however often they arrive; the failed list and the
admin's retry (ARCHITECTURE §6). What each event does: test_provider_events.py."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.errors import BadSignature
from app.commerce.gateways.signing import sign
from app.commerce.models import Order, PaymentEvent, Refund
from app.commerce.provider_events import apply_event
from app.commerce.webhooks import failed_events, receive_stripe, retry_event, retry_waiting_events
from app.dbtypes import utcnow
from app.errors import NotAllowed
from app.extensions import db
from app.learning.models import Enrollment
from app.learning.queries import active_enrollment
from app.moderation.suspensions import suspend_user, unsuspend_user
from tests.support.commerce import (
    charge_refunded,
    checkout,
    checkout_completed,
    deliver,
    keys,
    paid_course,
    signed,
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
