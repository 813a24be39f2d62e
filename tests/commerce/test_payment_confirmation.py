"""Stripe mode: a checkout is fulfilled only once Stripe's API confirms it was paid, in full,
for this order (issue 13, item 1). A validly signed event is a notice, not the truth: with a
leaked webhook secret, a forged "paid" event for an unpaid session must enrol no one.
Stripe's API is faked at the HTTP boundary (`fake_stripe`)."""
from __future__ import annotations

import pytest

from app.commerce.models import Order, PaymentEvent
from app.commerce.webhooks import failed_events, retry_event
from app.extensions import db
from app.learning.queries import active_enrollment
from tests.support.commerce import (
    STRIPE_API,
    checkout,
    checkout_async,
    checkout_completed,
    deliver,
    keys,
    paid_course,
    stripe_confirms,
)


@pytest.fixture
def order(learner, creator, fake_stripe):
    """A pending order whose checkout session was created at (fake) Stripe."""
    fake_stripe.post(f"{STRIPE_API}/v1/checkout/sessions", json={
        "id": "cs_test_confirm", "object": "checkout.session", "status": "open",
        "url": "https://checkout.stripe.com/c/pay/cs_test_confirm"})
    order = checkout(learner, paid_course(creator, price_minor=2999))
    db.session.commit()
    return order


def enrolled(order: Order) -> bool:
    order = db.session.get(Order, order.id)
    return active_enrollment(order.buyer, order.course) is not None


def test_a_paid_checkout_is_fulfilled_once_stripe_confirms_it(order, fake_stripe):
    event = checkout_completed(order, payment_intent="pi_test_from_event")
    url = stripe_confirms(fake_stripe, event, payment_intent="pi_test_at_stripe")
    stored, _ = deliver(event)
    assert stored.status == "applied"
    [call] = [c for c in fake_stripe.calls if c.request.url == url]
    assert call.request.method == "GET"
    assert call.request.headers["Authorization"] == "Bearer sk_test_x"
    paid = db.session.get(Order, order.id)
    assert paid.status == "paid"
    assert paid.payment_intent_id == "pi_test_at_stripe"  # Stripe's word, not the event's
    assert keys("sale:") == [f"sale:{order.id}"]
    assert enrolled(order)


def test_a_forged_but_validly_signed_event_for_an_unpaid_session_does_not_enrol(order, fake_stripe):
    forged = checkout_completed(order)  # signed with the real webhook secret, says "paid"
    stripe_confirms(fake_stripe, forged, status="open", payment_status="unpaid", payment_intent=None)
    stored, _ = deliver(forged)
    assert stored.status == "failed"
    assert stored in failed_events()  # the admin sees it
    assert "PaymentNotConfirmed" in stored.last_error
    assert "payment_status is 'unpaid', expected 'paid'" in stored.last_error
    assert db.session.get(Order, order.id).status == "pending"
    assert keys("") == []
    assert not enrolled(order)


@pytest.mark.parametrize(("at_stripe", "reason"), [
    ({"amount_total": 1}, "amount_total is 1, expected 2999"),
    ({"currency": "eur"}, "currency is 'eur', expected 'usd'"),
    ({"metadata": {"order_id": "999999"}}, "order_id is '999999'"),
    ({"metadata": {}}, "order_id is None"),
    ({"status": "expired", "payment_status": "unpaid"}, "status is 'expired', expected 'complete'"),
])
def test_a_session_that_does_not_match_the_order_is_not_fulfilled(order, fake_stripe, at_stripe, reason):
    event = checkout_completed(order)
    stripe_confirms(fake_stripe, event, **at_stripe)
    stored, _ = deliver(event)
    assert stored.status == "failed" and reason in stored.last_error
    assert db.session.get(Order, order.id).status == "pending"
    assert keys("") == []
    assert not enrolled(order)


def test_a_session_stripe_does_not_know_is_not_fulfilled(order, fake_stripe):
    event = checkout_completed(order)
    fake_stripe.get(f"{STRIPE_API}/v1/checkout/sessions/{order.checkout_session_id}", status=404, json={
        "error": {"type": "invalid_request_error", "code": "resource_missing",
                  "message": f"No such checkout.session: '{order.checkout_session_id}'"}})
    stored, _ = deliver(event)
    assert stored.status == "failed" and "has no such checkout session" in stored.last_error
    assert keys("") == [] and not enrolled(order)


def test_a_session_id_that_is_not_a_checkout_session_is_not_looked_up(order, fake_stripe):
    """An empty id would otherwise ask Stripe for the list of sessions."""
    event = checkout_completed(order)
    event["data"]["object"]["id"] = ""
    stored, _ = deliver(event)  # found by the order id in its metadata; no call to Stripe
    assert stored.status == "failed" and "has no such checkout session" in stored.last_error
    assert [c.request.method for c in fake_stripe.calls] == ["POST"]  # only the checkout itself
    assert not enrolled(order)


def test_a_forged_async_payment_success_is_confirmed_too(order, fake_stripe):
    forged = checkout_async(order, "succeeded", payment_intent="pi_test_forged")
    stripe_confirms(fake_stripe, forged, status="complete", payment_status="unpaid")
    stored, _ = deliver(forged)
    assert stored.status == "failed" and "payment_status is 'unpaid'" in stored.last_error
    assert keys("") == [] and not enrolled(order)


def test_a_delayed_payment_is_fulfilled_when_stripe_confirms_its_success(order, fake_stripe):
    deliver(checkout_completed(order, payment_intent="pi_test_delayed", payment_status="unpaid"))
    assert db.session.get(Order, order.id).status == "pending"  # nothing asked, nothing sold
    succeeded = checkout_async(db.session.get(Order, order.id), "succeeded", payment_intent="pi_test_delayed")
    stripe_confirms(fake_stripe, succeeded)
    stored, _ = deliver(succeeded)
    assert stored.status == "applied"
    assert keys("sale:") == [f"sale:{order.id}"] and enrolled(order)


def test_a_repeated_notice_of_a_paid_order_does_not_ask_stripe_again(order, fake_stripe):
    event = checkout_completed(order)
    url = stripe_confirms(fake_stripe, event)
    deliver(event)
    again, _ = deliver({**event, "id": event["id"] + "_again"})
    assert again.status == "applied"
    assert len([c for c in fake_stripe.calls if c.request.url == url]) == 1
    assert keys("sale:") == [f"sale:{order.id}"]


def test_retry_applies_the_event_once_stripe_confirms_the_payment(order, fake_stripe, admin):
    """An event seen before the session was paid fails; the admin's retry applies it."""
    event = checkout_completed(order)
    url = stripe_confirms(fake_stripe, event, status="open", payment_status="unpaid")
    stored, _ = deliver(event)
    assert stored.status == "failed"
    fake_stripe.replace("GET", url, json=event["data"]["object"])
    retry_event(admin, stored.id)
    db.session.commit()
    assert db.session.get(PaymentEvent, stored.id).status == "applied"
    assert keys("sale:") == [f"sale:{order.id}"] and enrolled(order)
