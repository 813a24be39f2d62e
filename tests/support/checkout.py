"""Buying through the screens (checkout form, the local gateway's pay page) and Stripe webhook
bodies as Stripe posts them (the events themselves are tests/support/commerce.py's), for the
HTTP-level money tests."""
from __future__ import annotations

import json
import re

import sqlalchemy as sa

from app.commerce.models import Order
from app.extensions import db
from tests.support.commerce import stripe_event

PAY_PAGE = re.compile(r"^/checkout/local/(cs_local_[0-9a-f]+)$")


def start_checkout(client, course) -> str:
    """POST the checkout form; returns the local gateway's pay page it redirects to."""
    resp = client.post(f"/checkout/courses/{course.id}")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert PAY_PAGE.match(resp.headers["Location"]), resp.headers["Location"]
    return resp.headers["Location"]


def buy_through_screens(client, course, action: str = "pay"):
    """Checkout, then press Pay (or Decline) on the test payment page."""
    return client.post(start_checkout(client, course), data={"action": action})


def order_of(buyer, course) -> Order:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Order)
        .where(Order.buyer_id == buyer.id, Order.course_id == course.id)
        .order_by(Order.id.desc())
        .limit(1)
    )


def bought(client, buyer, course) -> Order:
    """`buyer` (signed in on `client`) buys `course` through the screens; the paid order."""
    resp = buy_through_screens(client, course)
    assert resp.status_code == 302
    order = order_of(buyer, course)
    assert order.status == "paid"
    return order


def stripe_payload(event_type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    """The body Stripe posts for the event (`tests.support.commerce.stripe_event`)."""
    return json.dumps(stripe_event(event_type, obj, event_id=event_id)).encode()


def completed(order) -> bytes:
    return stripe_payload(
        "checkout.session.completed",
        {
            "id": order.checkout_session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": order.price_minor,
            "currency": order.currency.lower(),
            "payment_intent": "pi_test_123",
            "metadata": {"order_id": str(order.id)},
        },
    )

