"""The Stripe gateway (app/commerce/gateways/stripe.py) at the HTTP boundary: what we send to
Stripe's API (faked with `responses`; stripe 16 talks through `requests`) and what we make of
its answers."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.gateways import TransferResult
from app.commerce.gateways.stripe import StripeGateway
from app.commerce.models import Order, Payout, PayoutAccount, Refund
from app.commerce.payment_gateway import get_gateway
from app.commerce.payouts import connect_stripe
from app.commerce.refunds import request_refund
from app.extensions import db
from tests.support.commerce import (
    STRIPE_API,
    charge_refunded,
    checkout,
    checkout_completed,
    deliver,
    form_body,
    keys,
    paid_course,
    stripe_confirms,
)


def session_json(session_id: str = "cs_test_abc") -> dict:
    return {"id": session_id, "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}", "status": "open"}


def test_the_stripe_gateway_is_chosen_by_config(fake_stripe, app):
    assert isinstance(get_gateway(), StripeGateway)
    app.config["STRIPE_SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY"):
        get_gateway()


def test_a_checkout_session_carries_price_currency_metadata_and_an_idempotency_key(learner, creator, fake_stripe):
    course = paid_course(creator, price_minor=2999, title="Practical SQL")
    fake_stripe.post(f"{STRIPE_API}/v1/checkout/sessions", json=session_json())
    order = checkout(learner, course)
    assert order.checkout_session_id == "cs_test_abc" and order.gateway == "stripe"
    [call] = fake_stripe.calls
    assert call.request.headers["Authorization"] == "Bearer sk_test_x"
    assert call.request.headers["Idempotency-Key"] == f"checkout-order-{order.id}"
    body = form_body(call)
    assert body["mode"] == "payment"
    assert body["line_items[0][price_data][unit_amount]"] == "2999"
    assert body["line_items[0][price_data][currency]"] == "usd"
    assert body["line_items[0][price_data][product_data][name]"] == "Practical SQL"
    assert body["line_items[0][quantity]"] == "1"
    assert body["metadata[order_id]"] == str(order.id)
    assert body["metadata[course_id]"] == str(course.id)
    assert body["metadata[buyer_id]"] == str(learner.id)
    assert body["payment_intent_data[metadata][order_id]"] == str(order.id)
    assert body["client_reference_id"] == str(order.id)
    assert body["customer_email"] == learner.email
    assert f"/orders/{order.id}/success" in body["success_url"]
    assert f"/orders/{order.id}/cancel" in body["cancel_url"]


def test_checking_out_again_reuses_the_order_and_its_idempotency_key(learner, creator, fake_stripe):
    course = paid_course(creator)
    fake_stripe.post(f"{STRIPE_API}/v1/checkout/sessions", json=session_json())
    first = checkout(learner, course)
    second = checkout(learner, course)
    assert first.id == second.id
    assert [c.request.headers["Idempotency-Key"] for c in fake_stripe.calls] == [f"checkout-order-{first.id}"] * 2


@pytest.fixture
def paid_order(learner, creator, fake_stripe):
    fake_stripe.post(f"{STRIPE_API}/v1/checkout/sessions", json=session_json())
    order = checkout(learner, paid_course(creator))
    db.session.commit()
    event = checkout_completed(order, payment_intent="pi_test_paid")
    stripe_confirms(fake_stripe, event)
    deliver(event)
    return db.session.get(Order, order.id)


def test_a_refund_is_created_at_stripe_and_booked_when_stripe_confirms(paid_order, learner, fake_stripe):
    fake_stripe.post(f"{STRIPE_API}/v1/refunds", json={
        "id": "re_test_1", "object": "refund", "amount": 2999, "status": "pending",
        "payment_intent": "pi_test_paid"})
    refund = request_refund(learner, paid_order, reason="Wrong course", now=paid_order.paid_at)
    db.session.commit()
    call = fake_stripe.calls[-1]
    assert call.request.headers["Idempotency-Key"] == f"refund-{refund.id}"
    body = form_body(call)
    assert (body["payment_intent"], body["amount"]) == ("pi_test_paid", "2999")
    assert (body["metadata[refund_id]"], body["metadata[order_id]"]) == (str(refund.id), str(paid_order.id))
    refund = db.session.get(Refund, refund.id)
    assert (refund.status, refund.gateway_refund_id) == ("approved", "re_test_1")
    assert keys("refund:") == []  # nothing is booked until Stripe says it is done

    order = db.session.get(Order, paid_order.id)
    confirmation = charge_refunded(order, amount=2999, gateway_refund_id="re_test_1")
    deliver(confirmation)
    deliver({**confirmation, "id": confirmation["id"] + "_again"})
    assert db.session.get(Refund, refund.id).status == "succeeded"
    assert keys("refund:") == [f"refund:{refund.id}"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1


def payout_row(creator, amount=3000) -> Payout:
    payout = Payout(creator_id=creator.id, amount_minor=amount, currency="USD", provider="stripe",
                    destination="acct_test_dest", status="processing")
    db.session.add(payout)
    db.session.flush()
    return payout


def test_a_transfer_is_sent_with_the_payout_idempotency_key(creator, fake_stripe):
    payout = payout_row(creator)
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", json={"id": "tr_test_9", "object": "transfer",
                                                         "amount": 3000, "currency": "usd"})
    assert get_gateway().transfer(payout) == TransferResult(True, external_id="tr_test_9")
    [call] = fake_stripe.calls
    assert call.request.headers["Idempotency-Key"] == f"payout-{payout.id}"
    body = form_body(call)
    assert (body["amount"], body["currency"], body["destination"], body["metadata[payout_id]"]) == \
        ("3000", "usd", "acct_test_dest", str(payout.id))


def test_a_refused_transfer_is_a_failed_result(creator, fake_stripe):
    payout = payout_row(creator)
    fake_stripe.post(f"{STRIPE_API}/v1/transfers", status=400, json={"error": {
        "type": "invalid_request_error", "param": "destination",
        "message": "No such destination: 'acct_test_dest'"}})
    result = get_gateway().transfer(payout)
    assert result.ok is False and result.external_id is None
    assert "No such destination" in result.failure


def test_connecting_stripe_creates_an_express_account_and_an_onboarding_link(app, creator, fake_stripe):
    fake_stripe.post(f"{STRIPE_API}/v1/accounts", json={"id": "acct_test_new", "object": "account"})
    fake_stripe.post(f"{STRIPE_API}/v1/account_links", json={
        "object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_test_new/x"})
    with app.test_request_context():
        url = connect_stripe(creator, return_url="https://lyceum.test/studio/earnings",
                             refresh_url="https://lyceum.test/studio/payouts/connect")
    assert url == "https://connect.stripe.com/setup/e/acct_test_new/x"
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id))
    assert (account.provider, account.external_id, account.status) == ("stripe", "acct_test_new", "pending")
    accounts_call, link_call = fake_stripe.calls
    assert accounts_call.request.headers["Idempotency-Key"] == f"connect-{creator.id}"
    assert form_body(accounts_call)["type"] == "express"
    assert form_body(accounts_call)["capabilities[transfers][requested]"] == "true"
    link = form_body(link_call)
    assert (link["account"], link["type"]) == ("acct_test_new", "account_onboarding")


def test_recent_events_follow_stripes_pages(fake_stripe):
    page_one = [{"id": "evt_test_2", "object": "event", "type": "customer.created", "created": 2,
                 "data": {"object": {"id": "cus_2"}}}]
    page_two = [{"id": "evt_test_1", "object": "event", "type": "customer.created", "created": 1,
                 "data": {"object": {"id": "cus_1"}}}]
    fake_stripe.get(f"{STRIPE_API}/v1/events", json={"object": "list", "url": "/v1/events",
                                                      "has_more": True, "data": page_one})
    fake_stripe.get(f"{STRIPE_API}/v1/events", json={"object": "list", "url": "/v1/events",
                                                      "has_more": False, "data": page_two})
    events = get_gateway().recent_events(since_ts=1)
    assert [e["id"] for e in events] == ["evt_test_2", "evt_test_1"]
    assert events[0]["data"]["object"]["id"] == "cus_2"
    assert "starting_after=evt_test_2" in fake_stripe.calls[1].request.url


def charge_refunded_today(order: Order, *, amount_refunded: int) -> dict:
    """`charge.refunded` as Stripe sends it since API version 2022-11-15: the charge carries
    its running `amount_refunded`, but no longer the list of its refunds."""
    from tests.support.commerce import stripe_event

    return stripe_event("charge.refunded", {
        "id": "ch_test_paid", "object": "charge", "payment_intent": order.payment_intent_id,
        "amount": order.price_minor, "amount_refunded": amount_refunded, "refunded":
        amount_refunded >= order.price_minor, "currency": order.currency.lower()})


def test_a_refund_is_booked_from_a_charge_refunded_without_its_refunds_list(paid_order, learner, fake_stripe):
    fake_stripe.post(f"{STRIPE_API}/v1/refunds", json={"id": "re_test_2", "object": "refund",
                                                       "amount": 2999, "status": "succeeded"})
    refund = request_refund(learner, paid_order, reason="Wrong course", now=paid_order.paid_at)
    db.session.commit()
    confirmation = charge_refunded_today(db.session.get(Order, paid_order.id), amount_refunded=2999)
    deliver(confirmation)
    deliver({**confirmation, "id": confirmation["id"] + "_again"})
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "succeeded" and refund.gateway_refund_id == "re_test_2"
    assert keys("refund:") == [f"refund:{refund.id}"]
    assert db.session.get(Order, paid_order.id).status == "refunded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1


def test_refunds_made_in_stripes_dashboard_are_booked_from_the_running_total(paid_order):
    """Two partial refunds made at Stripe; their events arrive newest first."""
    order = db.session.get(Order, paid_order.id)
    newest = charge_refunded_today(order, amount_refunded=1500)
    oldest = charge_refunded_today(order, amount_refunded=500)
    deliver(newest)
    deliver(oldest)
    order = db.session.get(Order, paid_order.id)
    assert (order.status, order.refunded_minor) == ("paid", 1500)
    assert len(keys("refund:")) == 1
    deliver(charge_refunded_today(order, amount_refunded=2999))
    order = db.session.get(Order, paid_order.id)
    assert (order.status, order.refunded_minor, order.commission_refunded_minor) == ("refunded", 2999, 450)
    assert len(keys("refund:")) == 2
    assert ledger.check_invariants() == []
