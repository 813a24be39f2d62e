"""The buying API: start a checkout, my orders and their receipts, refund requests and their
state — the checkout pages' services, with Idempotency-Key replays on what moves money."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce.models import Order, Refund
from app.dbtypes import utcnow
from app.extensions import db
from tests.support.api import assert_problem
from tests.support.commerce import buy, checkout, idempotency, ledger_rows, paid_course

CHECKOUTS = "/api/v1/checkouts"


@pytest.fixture
def course(creator):
    return paid_course(creator, title="Painting with Light", price_minor=2999)


@pytest.fixture
def order(learner, course):
    """The learner bought the course (paid through a signed provider event)."""
    return buy(learner, course)


def orders_of(buyer) -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Order).where(Order.buyer_id == buyer.id)))


# --- POST /checkouts -----------------------------------------------------------------------

def test_checkout_gives_the_order_and_the_local_gateways_pay_page(api, learner, course):
    resp = api(learner, "learn").post(CHECKOUTS, json={"course_id": course.id}, headers=idempotency())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    [order] = orders_of(learner)
    assert body == {"order_id": order.id, "status": "pending",
                    "price": {"amount_minor": 2999, "currency": "USD"},
                    "payment_url": f"http://localhost/checkout/local/{order.checkout_session_id}"}


def test_checkout_replayed_with_its_key_answers_the_same_and_makes_one_order(api, learner, course):
    caller, headers = api(learner, "learn"), idempotency()
    first = caller.post(CHECKOUTS, json={"course_id": course.id}, headers=headers)
    again = caller.post(CHECKOUTS, json={"course_id": course.id}, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert len(orders_of(learner)) == 1


def test_a_checkout_key_reused_for_another_course_is_a_422(api, learner, course, creator):
    caller, headers = api(learner, "learn"), idempotency()
    assert caller.post(CHECKOUTS, json={"course_id": course.id}, headers=headers).status_code == 201
    other = paid_course(creator)
    body = assert_problem(caller.post(CHECKOUTS, json={"course_id": other.id}, headers=headers), 422)
    assert "Idempotency-Key" in body["detail"]
    assert len(orders_of(learner)) == 1


def test_checkout_needs_an_idempotency_key_and_a_course_id(api, learner, course):
    caller = api(learner, "learn")
    body = assert_problem(caller.post(CHECKOUTS, json={"course_id": course.id}), 422)
    assert "Idempotency-Key" in body["detail"]
    body = assert_problem(caller.post(CHECKOUTS, json={"course_id": "one"}, headers=idempotency()), 422)
    assert body["errors"][0]["field"] == "course_id"
    assert_problem(caller.post(CHECKOUTS, json={}, headers=idempotency()), 422)
    assert orders_of(learner) == []


def test_checkout_of_my_own_course_is_a_422_and_of_one_i_own_a_409(api, learner, creator, course, order):
    assert_problem(api(creator, "learn").post(CHECKOUTS, json={"course_id": course.id},
                                              headers=idempotency()), 422)
    body = assert_problem(api(learner, "learn").post(CHECKOUTS, json={"course_id": course.id},
                                                     headers=idempotency()), 409)
    assert "already own" in body["detail"]


def test_checkout_needs_a_token_with_the_learn_scope(anonymous, api, learner, course):
    assert_problem(anonymous.post(CHECKOUTS, json={"course_id": course.id}, headers=idempotency()), 401)
    resp = api(learner, "read").post(CHECKOUTS, json={"course_id": course.id}, headers=idempotency())
    assert_problem(resp, 403)
    assert orders_of(learner) == []


def test_checkout_of_a_missing_course_is_a_404(api, learner):
    assert_problem(api(learner, "learn").post(CHECKOUTS, json={"course_id": 999999},
                                              headers=idempotency()), 404)


def test_checkout_is_rate_limited_like_the_page(app, monkeypatch, api, learner, course):
    monkeypatch.setitem(app.config, "RATELIMIT_CHECKOUT", "2 per minute")
    caller = api(learner, "learn")
    for _ in range(2):
        assert caller.post(CHECKOUTS, json={"course_id": course.id}, headers=idempotency()).status_code == 201
    resp = caller.post(CHECKOUTS, json={"course_id": course.id}, headers=idempotency())
    assert_problem(resp, 429)
    assert len(orders_of(learner)) == 1  # the same pending order, reused


# --- GET /orders ---------------------------------------------------------------------------

def test_my_orders_are_my_purchases_newest_first_a_page_at_a_time(api, learner, creator, make_user):
    first = buy(learner, paid_course(creator, title="First"))
    second = buy(learner, paid_course(creator, title="Second"))
    second.paid_at = first.paid_at + timedelta(minutes=1)
    checkout(learner, paid_course(creator))  # pending: not a purchase yet
    buy(make_user(), paid_course(creator))  # someone else's
    db.session.commit()
    caller = api(learner, "read")
    page = caller.get("/api/v1/orders?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [second.id]
    assert page["items"][0]["course"]["title"] == "Second"
    assert page["items"][0]["price"] == {"amount_minor": 2999, "currency": "USD"}
    rest = caller.get(f"/api/v1/orders?limit=1&cursor={page['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == [first.id] and rest["next_cursor"] is None


def test_orders_refuse_bad_paging(api, learner):
    caller = api(learner, "read")
    assert_problem(caller.get("/api/v1/orders?limit=0"), 422)
    assert_problem(caller.get("/api/v1/orders?cursor=forged"), 422)


def test_orders_need_a_token_with_the_read_scope(anonymous, api, learner, order):
    assert_problem(anonymous.get("/api/v1/orders"), 401)
    assert_problem(api(learner, "learn").get("/api/v1/orders"), 403)
    assert_problem(api(learner, "learn").get(f"/api/v1/orders/{order.id}"), 403)


# --- GET /orders/{id} ----------------------------------------------------------------------

def test_an_order_shows_its_receipt_and_the_refund_offer(api, learner, order):
    body = api(learner, "read").get(f"/api/v1/orders/{order.id}").get_json()
    assert body["id"] == order.id and body["status"] == "paid" and body["enrolled"] is True
    assert body["course"] == {"id": order.course.id, "slug": order.course.slug, "title": "Painting with Light"}
    assert body["refunded"] == {"amount_minor": 0, "currency": "USD"}
    assert body["paid_at"].endswith("Z")
    assert body["refund"] is None and body["dispute"] is None
    assert body["refund_offer"] == {"automatic": True,
                                    "why": "inside the refund window and the consumption limit"}
    assert "within 30 days" in body["refund_rule"]


def test_a_pending_order_can_be_polled(api, learner, course):
    order = checkout(learner, course)
    db.session.commit()
    body = api(learner, "read").get(f"/api/v1/orders/{order.id}").get_json()
    assert body["status"] == "pending" and body["paid_at"] is None and body["enrolled"] is False
    assert body["refund_offer"] is None


def test_someone_elses_order_is_not_found(api, make_user, order):
    body = assert_problem(api(make_user(), "read").get(f"/api/v1/orders/{order.id}"), 404)
    assert "No such order" in body["detail"]
    assert_problem(api(make_user(), "read").get("/api/v1/orders/999999"), 404)


def test_an_order_needs_a_token(anonymous, order):
    assert_problem(anonymous.get(f"/api/v1/orders/{order.id}"), 401)


# --- POST /orders/{id}/refund --------------------------------------------------------------

def refund_url(order) -> str:
    return f"/api/v1/orders/{order.id}/refund"


def test_a_refund_inside_the_rule_is_approved_at_once_and_settled(api, learner, order):
    before = ledger_rows()
    resp = api(learner, "learn").post(refund_url(order), json={"reason": "Not for me"}, headers=idempotency())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["automatic"] is True and body["status"] == "succeeded" and body["order_id"] == order.id
    assert body["amount"] == {"amount_minor": 2999, "currency": "USD"} and body["reason"] == "Not for me"
    assert ledger_rows() == (before[0] + 1, before[1] + 3)  # the reversal, once
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "refunded"


def test_a_replayed_refund_answers_the_same_and_moves_nothing_twice(api, learner, order):
    caller, headers = api(learner, "learn"), idempotency()
    first = caller.post(refund_url(order), json={"reason": "Not for me"}, headers=headers)
    after_first = ledger_rows()
    again = caller.post(refund_url(order), json={"reason": "Not for me"}, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert ledger_rows() == after_first
    assert db.session.scalar(sa.select(sa.func.count(Refund.id)).where(Refund.order_id == order.id)) == 1


def test_a_refund_key_reused_with_another_reason_is_a_422(api, learner, order):
    caller, headers = api(learner, "learn"), idempotency()
    caller.post(refund_url(order), json={"reason": "Not for me"}, headers=headers)
    after_first = ledger_rows()
    assert_problem(caller.post(refund_url(order), json={"reason": "Other"}, headers=headers), 422)
    assert ledger_rows() == after_first


def test_a_second_refund_with_a_new_key_is_a_409(api, learner, order):
    caller = api(learner, "learn")
    caller.post(refund_url(order), json={"reason": "Not for me"}, headers=idempotency())
    after_first = ledger_rows()
    body = assert_problem(caller.post(refund_url(order), json={"reason": "Again"}, headers=idempotency()), 409)
    assert "cannot be refunded" in body["detail"]
    assert ledger_rows() == after_first


def test_a_refund_needs_a_reason(api, learner, order):
    caller = api(learner, "learn")
    before = ledger_rows()
    body = assert_problem(caller.post(refund_url(order), json={"reason": ""}, headers=idempotency()), 422)
    assert body["errors"][0]["field"] == "reason"
    body = assert_problem(caller.post(refund_url(order), json={"reason": "   "}, headers=idempotency()), 422)
    assert body["detail"] == "Tell us why you want a refund."
    assert_problem(caller.post(refund_url(order), json={"reason": "x"}), 422)  # no Idempotency-Key
    assert ledger_rows() == before


def test_a_late_refund_request_waits_for_an_admin_and_its_state_can_be_read(api, learner, order):
    order.paid_at = utcnow() - timedelta(days=40)
    db.session.commit()
    before = ledger_rows()
    assert api(learner, "read").get(f"/api/v1/orders/{order.id}").get_json()["refund_offer"] == {
        "automatic": False, "why": "more than 30 days after the purchase"}
    body = api(learner, "learn").post(refund_url(order), json={"reason": "Late"}, headers=idempotency()).get_json()
    assert body["status"] == "requested" and body["automatic"] is False
    assert ledger_rows() == before
    state = api(learner, "read").get(f"/api/v1/refunds/{body['id']}")
    assert state.status_code == 200 and state.get_json() == body
    receipt = api(learner, "read").get(f"/api/v1/orders/{order.id}").get_json()
    assert receipt["refund"] == body and receipt["refund_offer"] is None


def test_refunds_need_the_learn_scope_and_my_own_order(anonymous, api, learner, make_user, order):
    before = ledger_rows()
    assert_problem(anonymous.post(refund_url(order), json={"reason": "x"}, headers=idempotency()), 401)
    assert_problem(api(learner, "read").post(refund_url(order), json={"reason": "x"}, headers=idempotency()), 403)
    assert_problem(api(make_user(), "learn").post(refund_url(order), json={"reason": "x"},
                                                  headers=idempotency()), 404)
    assert ledger_rows() == before


# --- GET /refunds/{id} ---------------------------------------------------------------------

def test_a_refund_is_only_its_buyers(anonymous, api, learner, make_user, order):
    refund_id = api(learner, "learn").post(refund_url(order), json={"reason": "No"},
                                           headers=idempotency()).get_json()["id"]
    assert api(learner, "read").get(f"/api/v1/refunds/{refund_id}").get_json()["status"] == "succeeded"
    assert_problem(api(make_user(), "read").get(f"/api/v1/refunds/{refund_id}"), 404)
    assert_problem(api(order.creator, "read").get(f"/api/v1/refunds/{refund_id}"), 404)
    assert_problem(api(learner, "learn").get(f"/api/v1/refunds/{refund_id}"), 403)
    assert_problem(anonymous.get(f"/api/v1/refunds/{refund_id}"), 401)
