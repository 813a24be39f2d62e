"""POST /webhooks/stripe with real signed payloads: verify, store once, apply, answer fast."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from app.commerce.gateways.signing import sign
from app.commerce.models import LedgerTransaction, PaymentEvent
from app.extensions import db
from app.learning.queries import active_enrollment
from tests.support.checkout import completed, order_of, start_checkout, stripe_payload

URL = "/webhooks/stripe"


@pytest.fixture
def deliver(client, app):
    """`deliver(payload)` posts it signed with the webhook secret (or `secret`, at `timestamp`)."""

    def post(
        payload: bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ):
        if signature is None:
            signature = sign(payload, secret or app.config["STRIPE_WEBHOOK_SECRET"], timestamp)
        return client.post(
            URL, data=payload, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
        )

    return post


@pytest.fixture
def pending_order(app, make_course, creator, learner, login):
    """An order waiting for its payment event (checked out through the screens)."""
    course = make_course(creator, status="published", price_minor=2999)
    buyer = app.test_client()
    login(learner, on=buyer)
    start_checkout(buyer, course)
    return order_of(learner, course)


def stored() -> list[PaymentEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PaymentEvent).order_by(PaymentEvent.id)))


def assert_rejected(resp, message: str = "The webhook signature is missing, wrong or too old."):
    assert resp.status_code == 400
    assert resp.is_json
    assert resp.json["error"]["status"] == 400 and resp.json["error"]["message"] == message
    assert stored() == []


def test_a_valid_event_is_stored_applied_and_answered_200(deliver, pending_order, learner):
    resp = deliver(completed(pending_order))
    assert resp.status_code == 200
    assert resp.json == {"received": True, "duplicate": False}
    [event] = stored()
    assert event.provider == "stripe" and event.type == "checkout.session.completed"
    assert event.status == "applied" and event.attempts == 1
    order = order_of(learner, pending_order.course)
    assert order.status == "paid" and order.payment_intent_id == "pi_test_123"
    assert active_enrollment(learner, order.course) is not None


def test_a_forged_signature_is_refused_and_nothing_is_stored(deliver, pending_order, learner):
    assert_rejected(deliver(completed(pending_order), secret="whsec_someone_else"))
    assert order_of(learner, pending_order.course).status == "pending"


def test_a_stale_signature_is_refused(deliver, pending_order):
    assert_rejected(deliver(completed(pending_order), timestamp=int(time.time()) - 6 * 60))


def test_a_signature_inside_the_tolerance_is_accepted(deliver, pending_order):
    assert deliver(completed(pending_order), timestamp=int(time.time()) - 4 * 60).status_code == 200


def test_a_tampered_payload_is_refused(deliver, pending_order, app):
    genuine = completed(pending_order)
    signature = sign(genuine, app.config["STRIPE_WEBHOOK_SECRET"])
    tampered = genuine.replace(b'"amount_total": 2999', b'"amount_total": 1')
    assert tampered != genuine
    assert_rejected(deliver(tampered, signature=signature))


@pytest.mark.parametrize("signature", ["", "garbage", "t=abc,v1=def", "v1=" + "0" * 64])
def test_a_missing_or_malformed_signature_header_is_refused(deliver, pending_order, signature):
    assert_rejected(deliver(completed(pending_order), signature=signature))


def test_no_signature_header_at_all_is_refused(client, pending_order):
    assert_rejected(client.post(URL, data=completed(pending_order), content_type="application/json"))


def test_a_duplicate_delivery_answers_200_and_does_nothing(deliver, pending_order):
    payload = completed(pending_order)
    assert deliver(payload).json == {"received": True, "duplicate": False}
    again = deliver(payload)
    assert again.status_code == 200 and again.json == {"received": True, "duplicate": True}
    [event] = stored()
    assert event.attempts == 1
    assert db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id))) == 1


def test_no_csrf_token_is_needed(deliver, pending_order, csrf_on):
    assert deliver(completed(pending_order)).status_code == 200
    assert len(stored()) == 1


@pytest.mark.parametrize("body", [b"", b"not json at all", b"\xff\xfe\x00", b'{"id": "evt_1", "type": '])
def test_a_garbage_body_is_refused_even_when_signed(deliver, body):
    assert_rejected(deliver(body))


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b"{}",
        b'"just a string"',
        b"null",
        b"42",
        b'{"id": 5, "type": "x", "data": {"object": {}}}',
        b'{"id": "", "type": "x", "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "checkout.session.completed"}',
        b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": []}}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(deliver, body):
    assert_rejected(deliver(body), "The webhook body is not a Stripe event.")


def test_a_garbage_body_without_a_signature_is_refused(deliver):
    assert_rejected(deliver(b"\x00\x01 garbage", signature="t=1,v1=00"))


def test_an_unknown_event_type_is_stored_and_ignored(deliver):
    resp = deliver(stripe_payload("customer.created", {"id": "cus_1", "object": "customer"}))
    assert resp.status_code == 200 and resp.json["duplicate"] is False
    [event] = stored()
    assert event.type == "customer.created" and event.status == "ignored"


def test_an_event_for_an_unknown_order_is_parked(deliver):
    resp = deliver(
        stripe_payload(
            "checkout.session.completed",
            {
                "id": "cs_test_unknown",
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": 100,
                "metadata": {"order_id": "99999"},
            },
        )
    )
    assert resp.status_code == 200
    [event] = stored()
    assert event.status == "parked" and "no order" in event.last_error


def test_only_post_is_accepted(client):
    resp = client.get(URL)
    assert resp.status_code == 405 and resp.is_json and "POST" in resp.headers["Allow"]
