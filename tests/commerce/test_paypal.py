"""PayPal Payouts (app/commerce/gateways/paypal.py) at the HTTP boundary, faked with `responses`:
an OAuth token, then one batch per payout keyed by `sender_batch_id = payout-<id>`; a batch
sent before is "already sent"; a 4xx refusal fails the payout (money back); a 5xx raises, so
the job retries with the same key."""
from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
import requests
import responses
import sqlalchemy as sa

from app.commerce.gateways.paypal import PayPalPayouts, paypal_payouts
from app.commerce.models import Payout
from app.commerce.payouts import connect_paypal, request_payout
from app.commerce.settings import set_setting
from app.errors import Invalid
from app.extensions import db
from app.jobs.payments import execute_payout
from tests.support.commerce import balances, buy, keys, paid_course
from tests.support.rows import notifications

BASE = "https://api-m.sandbox.paypal.com"
TOKEN_URL = f"{BASE}/v1/oauth2/token"
PAYOUTS_URL = f"{BASE}/v1/payments/payouts"


@pytest.fixture
def fake_paypal(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYPAL_CLIENT_ID", "paypal-test-client")
    monkeypatch.setitem(app.config, "PAYPAL_SECRET", "paypal-test-secret")
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def token(fake_paypal) -> None:
    fake_paypal.post(TOKEN_URL, json={"access_token": "A21AA-test-token", "token_type": "Bearer",
                                      "expires_in": 32400})


def batch_created(batch_id: str = "5UXD2E8A7EBQJ") -> dict:
    return {"batch_header": {"payout_batch_id": batch_id, "batch_status": "PENDING",
                             "sender_batch_header": {"sender_batch_id": "payout-1"}},
            "links": [{"href": f"{PAYOUTS_URL}/{batch_id}", "rel": "self", "method": "GET"}]}


def duplicate_batch(batch_id: str = "CR9VS2K4X4846") -> dict:
    """PayPal's answer to a sender_batch_id used in the last 30 days."""
    return {"name": "USER_BUSINESS_ERROR", "message": "User business error.", "debug_id": "f05063556a338",
            "details": [{"field": "SENDER_BATCH_ID", "location": "body",
                         "issue": "Batch with given sender_batch_id already exists",
                         "link": [{"href": f"https://api.sandbox.paypal.com/v1/payments/payouts/{batch_id}",
                                   "rel": "self", "method": "GET"}]}]}


@pytest.fixture
def creator_with_paypal(learner, creator, admin, make_user):
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    course = paid_course(creator)
    buy(learner, course)
    buy(make_user(), course)
    connect_paypal(creator, email="creator@example.test")
    db.session.commit()
    return creator


def reload(payout) -> Payout:
    db.session.expire_all()  # a job may have committed in its own session
    return db.session.get(Payout, payout.id)


def test_without_credentials_there_is_no_paypal_client(app):
    assert app.config["PAYPAL_CLIENT_ID"] is None and paypal_payouts() is None


def test_without_credentials_a_paypal_payout_succeeds_at_once_on_the_embedded_default(creator_with_paypal):
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()
    assert reload(payout).status == "paid"


def test_without_credentials_a_paypal_payout_in_production_fails_and_returns_the_money(
        creator_with_paypal, app, monkeypatch):
    """Nothing would reach PayPal: production must not book it as paid."""
    monkeypatch.setitem(app.config, "LYCEUM_ENV", "production")
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()
    payout = reload(payout)
    assert payout.status == "failed" and "not set up" in payout.failure_reason
    assert balances(creator_with_paypal) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert keys("payout-returned:") == [f"payout-returned:{payout.id}"]


def test_a_payout_takes_a_token_then_sends_one_batch_keyed_by_the_payout(creator_with_paypal, fake_paypal):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=201, json=batch_created())
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()  # the payout job runs

    token_call, payout_call = fake_paypal.calls
    expected = base64.b64encode(b"paypal-test-client:paypal-test-secret").decode()
    assert token_call.request.headers["Authorization"] == f"Basic {expected}"
    assert token_call.request.body == "grant_type=client_credentials"
    assert payout_call.request.headers["Authorization"] == "Bearer A21AA-test-token"
    body = json.loads(payout_call.request.body)
    assert body["sender_batch_header"]["sender_batch_id"] == f"payout-{payout.id}"
    [item] = body["items"]
    assert item == {"recipient_type": "EMAIL", "receiver": "creator@example.test",
                    "sender_item_id": f"payout-{payout.id}",
                    "amount": {"value": "30.00", "currency": "USD"}}

    payout = reload(payout)  # accepted; PayPal reports the outcome later (webhook or poll)
    assert (payout.status, payout.external_id) == ("processing", "5UXD2E8A7EBQJ")
    assert balances(creator_with_paypal) == {"escrow": 0, "available": 2098, "payout_in_flight": 3000}
    assert keys("payout-settled:") == [] and keys("payout-returned:") == []


def test_a_batch_sent_before_is_treated_as_already_sent(creator_with_paypal, fake_paypal):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=400, json=duplicate_batch("CR9VS2K4X4846"))
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()
    payout = reload(payout)
    assert payout.status == "processing" and payout.failure_reason == ""
    assert payout.external_id == "CR9VS2K4X4846"  # the original batch, so the poll can follow it
    assert balances(creator_with_paypal)["payout_in_flight"] == 3000
    assert keys("payout-returned:") == []


@pytest.mark.parametrize("status, body, reason", [
    (422, {"name": "INSUFFICIENT_FUNDS", "message": "Sender does not have sufficient funds."},
     "sufficient funds"),
    (403, {"name": "AUTHORIZATION_ERROR", "message": "Authorization error occurred."}, "Authorization error"),
    (400, {"name": "VALIDATION_ERROR", "message": "Invalid request - see details.",
           "details": [{"field": "items[0].receiver", "issue": "Receiver is invalid or does not match "
                                                                "with type"}]}, "Invalid request"),
    # a validation error that merely names the sender_batch_id is not a duplicate
    (400, {"name": "VALIDATION_ERROR", "message": "Invalid request - see details.",
           "details": [{"field": "SENDER_BATCH_ID", "issue": "Value is invalid."}]}, "Invalid request"),
])
def test_a_refusal_fails_the_payout_and_returns_the_money(creator_with_paypal, fake_paypal, status, body, reason):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=status, json=body)
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()
    payout = reload(payout)
    assert payout.status == "failed" and reason in payout.failure_reason
    assert balances(creator_with_paypal) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert keys("payout-returned:") == [f"payout-returned:{payout.id}"]
    assert reason in notifications(creator_with_paypal, "commerce.payout_failed")[-1].data["reason"]


def test_a_refusal_that_is_not_json_still_fails_cleanly(creator_with_paypal, fake_paypal):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=401, body="<html>Unauthorized</html>")
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()
    assert reload(payout).status == "failed"
    assert balances(creator_with_paypal)["available"] == 5098


def test_a_server_error_raises_so_the_job_retries_with_the_same_batch_id(creator_with_paypal, fake_paypal):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=503, json={"name": "SERVICE_UNAVAILABLE"})
    payout = request_payout(creator_with_paypal, 3000)
    db.session.commit()  # the job fails: RQ keeps it for a retry
    payout = reload(payout)
    assert payout.status == "processing" and payout.external_id is None
    assert balances(creator_with_paypal)["payout_in_flight"] == 3000
    assert keys("payout-returned:") == [] and keys("payout-settled:") == []

    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=201, json=batch_created("RETRY42"))
    execute_payout(payout.id)  # RQ's retry runs the same job
    assert reload(payout).external_id == "RETRY42"
    batch_ids = [json.loads(c.request.body)["sender_batch_header"]["sender_batch_id"]
                 for c in fake_paypal.calls if c.request.url == PAYOUTS_URL]
    assert batch_ids == [f"payout-{payout.id}"] * 2


def test_a_refused_token_raises(fake_paypal):
    fake_paypal.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    client = PayPalPayouts("paypal-test-client", "wrong", BASE)
    with pytest.raises(requests.HTTPError):
        client.send(SimpleNamespace(id=1, destination="x@example.test", amount_minor=2000,
                                    currency="USD", external_id=None))
    assert [c.request.url for c in fake_paypal.calls] == [TOKEN_URL]


@pytest.mark.parametrize("minor, value", [(2000, "20.00"), (2001, "20.01"), (5, "0.05"),
                                          (2 ** 53 + 1, "90071992547409.93")])
def test_amounts_are_sent_exactly_never_through_a_float(fake_paypal, minor, value):
    token(fake_paypal)
    fake_paypal.post(PAYOUTS_URL, status=201, json=batch_created())
    PayPalPayouts("id", "secret", BASE).send(SimpleNamespace(
        id=7, destination="x@example.test", amount_minor=minor, currency="USD", external_id=None))
    assert json.loads(fake_paypal.calls[-1].request.body)["items"][0]["amount"]["value"] == value


def test_nothing_reaches_paypal_when_the_payout_is_refused_up_front(creator_with_paypal, fake_paypal):

    with pytest.raises(Invalid):
        request_payout(creator_with_paypal, 999_999)
    db.session.commit()
    assert len(fake_paypal.calls) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payout)) == 0
