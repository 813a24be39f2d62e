"""PayPal payouts report their outcome later: by webhook (verified by PayPal itself) or by
the polling job. Only PayPal's HTTP API is faked."""
import json

import pytest
import responses

from app.commerce import ledger, payouts
from app.commerce.errors import BadSignature
from app.commerce.models import PaymentEvent, PayoutAccount
from app.commerce.webhooks import receive_paypal
from app.extensions import db

API = "https://paypal.test"


@pytest.fixture
def paypal(app):
    saved = {k: app.config.get(k) for k in ("PAYPAL_CLIENT_ID", "PAYPAL_SECRET", "PAYPAL_API_BASE",
                                            "PAYPAL_WEBHOOK_ID")}
    app.config.update(PAYPAL_CLIENT_ID="client", PAYPAL_SECRET="secret", PAYPAL_API_BASE=API,
                      PAYPAL_WEBHOOK_ID="WH-ID")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post(f"{API}/v1/oauth2/token", json={"access_token": "token", "expires_in": 3600})
        yield http
    app.config.update(saved)


@pytest.fixture
def creator_with_money(db, make_user):
    creator = make_user()
    db.session.add(PayoutAccount(user_id=creator.id, provider="paypal", external_id="me@example.test",
                                 status="active"))
    ledger.post(f"test-sale:{creator.id}", "sale", [
        (ledger.gateway_account("stripe"), 10000), (ledger.COMMISSION, -1500),
        (ledger.creator_account(creator.id, "available"), -8500)], currency="USD")
    db.session.commit()
    return creator


def sent_payout(paypal, creator, amount=5000):
    paypal.post(f"{API}/v1/payments/payouts", status=201,
                json={"batch_header": {"payout_batch_id": "BATCH-1", "batch_status": "PENDING"}})
    payout = payouts.request_payout(creator, amount)
    db.session.commit()  # the inline job sends it
    db.session.refresh(payout)
    return payout


def event(kind, payout_id, event_id="WH-EVT-1"):
    return json.dumps({"id": event_id, "event_type": kind,
                       "resource": {"payout_item": {"sender_item_id": f"payout-{payout_id}"},
                                    "transaction_status": kind.rsplit(".", 1)[-1]}}).encode()


def test_a_paypal_payout_waits_in_flight_until_paypal_reports(paypal, creator_with_money):
    payout = sent_payout(paypal, creator_with_money)
    assert payout.status == "processing" and payout.external_id == "BATCH-1"
    assert ledger.creator_balances(creator_with_money.id)["payout_in_flight"] == 5000


def test_a_verified_success_webhook_settles_it_once(paypal, creator_with_money):
    payout = sent_payout(paypal, creator_with_money)
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature", json={"verification_status": "SUCCESS"})
    body = event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", payout.id)
    receive_paypal(body, {"PAYPAL-TRANSMISSION-ID": "t"})
    db.session.commit()
    _, again = receive_paypal(body, {"PAYPAL-TRANSMISSION-ID": "t"})
    db.session.commit()
    db.session.refresh(payout)
    assert payout.status == "paid" and not again
    assert ledger.creator_balances(creator_with_money.id) == {"escrow": 0, "available": 3500,
                                                               "payout_in_flight": 0}
    assert ledger.check_invariants() == []


def test_a_failed_item_gives_the_money_back(paypal, creator_with_money):
    payout = sent_payout(paypal, creator_with_money)
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature", json={"verification_status": "SUCCESS"})
    receive_paypal(event("PAYMENT.PAYOUTS-ITEM.FAILED", payout.id), {})
    db.session.commit()
    db.session.refresh(payout)
    assert payout.status == "failed"
    assert ledger.creator_balances(creator_with_money.id)["available"] == 8500


def test_a_webhook_paypal_does_not_confirm_is_refused_and_not_stored(paypal, creator_with_money):
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature", json={"verification_status": "FAILURE"})
    with pytest.raises(BadSignature):
        receive_paypal(event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", 1), {})
    assert db.session.query(PaymentEvent).count() == 0


def test_the_polling_job_settles_a_batch_paypal_reports_as_done(paypal, creator_with_money):
    payout = sent_payout(paypal, creator_with_money)
    paypal.get(f"{API}/v1/payments/payouts/BATCH-1", json={"batch_header": {"batch_status": "SUCCESS"}})
    assert payouts.poll_paypal_payouts() == 1
    db.session.commit()
    db.session.refresh(payout)
    assert payout.status == "paid"


def test_the_webhook_endpoint_answers_400_to_a_forgery(client, paypal):
    paypal.post(f"{API}/v1/notifications/verify-webhook-signature", json={"verification_status": "FAILURE"})
    resp = client.post("/webhooks/paypal", data=event("PAYMENT.PAYOUTS-ITEM.SUCCEEDED", 1),
                       content_type="application/json")
    assert resp.status_code == 400


@pytest.mark.parametrize("reference", ["payout-" + "9" * 30, "payout-0", "payout-", "payout-x1", "other-1"])
def test_a_payout_reference_no_id_column_can_hold_finds_nothing(reference):
    assert payouts.payout_for_item(reference) is None
