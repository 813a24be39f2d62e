"""The earnings API: a creator's balances, sales with their state, and the price split the
course editor shows — the studio's services."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.commerce import disputes, escrow
from app.extensions import db
from tests.support.api import assert_problem
from tests.support.commerce import buy, paid_course


@pytest.fixture
def course(creator):
    return paid_course(creator, title="Painting with Light", price_minor=2999)


@pytest.fixture
def sale(learner, course):
    """The learner bought the course: $25.49 of it is the creator's, in escrow."""
    return buy(learner, course)


def usd(minor: int) -> dict:
    return {"amount_minor": minor, "currency": "USD"}


# --- GET /earnings -------------------------------------------------------------------------

def test_earnings_are_the_pages_four_figures(api, creator, sale):
    caller = api(creator, "read")
    assert caller.get("/api/v1/earnings").get_json() == {
        "available": usd(0), "in_escrow": usd(2549), "in_flight": usd(0), "paid_out": usd(0)}
    assert escrow.release(sale, reason="test")
    db.session.commit()
    assert caller.get("/api/v1/earnings").get_json()["available"] == usd(2549)


def test_earnings_are_the_tokens_own(api, make_user, sale):
    assert api(make_user(), "read").get("/api/v1/earnings").get_json()["in_escrow"] == usd(0)


def test_earnings_need_the_read_scope(anonymous, api, creator):
    assert_problem(anonymous.get("/api/v1/earnings"), 401)
    assert_problem(api(creator, "sell", "teach").get("/api/v1/earnings"), 403)


# --- GET /earnings/sales -------------------------------------------------------------------

def test_sales_show_commission_share_and_state(api, creator, sale):
    [item] = api(creator, "read").get("/api/v1/earnings/sales").get_json()["items"]
    assert item == {"order_id": sale.id, "paid_at": item["paid_at"],
                    "course": {"id": sale.course.id, "slug": sale.course.slug, "title": "Painting with Light"},
                    "price": usd(2999), "commission_rate_bps": 1500, "commission": usd(450),
                    "creator_share": usd(2549), "refunded": usd(0), "state": "in_escrow",
                    "state_text": "in escrow"}


def test_sale_states_follow_the_money(api, learner, creator, sale):
    caller = api(creator, "read")
    disputes.open_dispute(learner, sale, reason="quality", message="Blurry.")
    db.session.commit()
    [item] = caller.get("/api/v1/earnings/sales").get_json()["items"]
    assert (item["state"], item["state_text"]) == ("frozen", "frozen (dispute)")
    other = buy(learner, paid_course(creator))
    assert escrow.release(other, reason="test")
    db.session.commit()
    states = {i["order_id"]: i["state"] for i in caller.get("/api/v1/earnings/sales").get_json()["items"]}
    assert states == {sale.id: "frozen", other.id: "available"}


def test_sales_come_a_page_at_a_time_and_are_the_creators_own(api, learner, creator, make_user, sale):
    later = buy(learner, paid_course(creator))
    later.paid_at = sale.paid_at + timedelta(minutes=1)
    db.session.commit()
    caller = api(creator, "read")
    page = caller.get("/api/v1/earnings/sales?limit=1").get_json()
    assert [i["order_id"] for i in page["items"]] == [later.id]
    rest = caller.get(f"/api/v1/earnings/sales?limit=1&cursor={page['next_cursor']}").get_json()
    assert [i["order_id"] for i in rest["items"]] == [sale.id] and rest["next_cursor"] is None
    assert api(make_user(), "read").get("/api/v1/earnings/sales").get_json()["items"] == []


def test_sales_refuse_bad_paging_and_need_read(anonymous, api, creator):
    assert_problem(api(creator, "read").get("/api/v1/earnings/sales?limit=abc"), 422)
    assert_problem(api(creator, "read").get("/api/v1/earnings/sales?cursor=x"), 422)
    assert_problem(anonymous.get("/api/v1/earnings/sales"), 401)
    assert_problem(api(creator, "teach").get("/api/v1/earnings/sales"), 403)


# --- GET /commission/split -----------------------------------------------------------------

def test_the_split_at_the_platforms_rate(api, creator):
    assert api(creator, "read").get("/api/v1/commission/split?price_minor=2999").get_json() == {
        "price": usd(2999), "commission_rate_bps": 1500, "commission": usd(450), "creator_share": usd(2549)}
    free = api(creator, "read").get("/api/v1/commission/split?price_minor=0").get_json()
    assert free["commission"] == usd(0) and free["creator_share"] == usd(0)


def test_the_split_refuses_prices_no_course_may_have(api, creator):
    caller = api(creator, "read")
    body = assert_problem(caller.get("/api/v1/commission/split?price_minor=50"), 422)
    assert "at least 1.99" in body["detail"]
    assert_problem(caller.get("/api/v1/commission/split?price_minor=10000000"), 422)
    assert_problem(caller.get("/api/v1/commission/split?price_minor=-1"), 422)
    assert_problem(caller.get("/api/v1/commission/split"), 422)


def test_the_split_needs_the_read_scope(anonymous, api, creator):
    assert_problem(anonymous.get("/api/v1/commission/split?price_minor=1999"), 401)
    assert_problem(api(creator, "teach").get("/api/v1/commission/split?price_minor=1999"), 403)
