"""The payouts API: connecting Stripe or PayPal as the earnings page does, withdrawing (an
idempotent POST: a replay moves nothing twice) and reading payouts with their status."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.commerce import escrow
from app.commerce.models import Payout, PayoutAccount
from app.extensions import db
from tests.support.api import assert_problem
from tests.support.commerce import balances, buy, idempotency, ledger_rows, paid_course

PAYOUTS = "/api/v1/payouts"


@pytest.fixture
def available(learner, creator):
    """A released sale: $25.49 is available to the creator."""
    order = buy(learner, paid_course(creator, price_minor=2999))
    assert escrow.release(order, reason="test")
    db.session.commit()
    return order


@pytest.fixture
def paypal(api, creator):
    resp = api(creator, "sell").post("/api/v1/payout-accounts/paypal", json={"email": "carl@example.test"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def payouts_of(creator) -> list[Payout]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Payout).where(Payout.creator_id == creator.id)))


def usd(minor: int) -> dict:
    return {"amount_minor": minor, "currency": "USD"}


# --- payout accounts -----------------------------------------------------------------------

def test_no_payout_account_yet(api, creator):
    assert api(creator, "read").get("/api/v1/payout-accounts").get_json() == {"items": []}


def test_paypal_is_connected_and_listed(api, creator, paypal):
    assert paypal["provider"] == "paypal" and paypal["destination"] == "carl@example.test"
    assert paypal["status"] == "active" and paypal["updated_at"].endswith("Z")
    assert api(creator, "read").get("/api/v1/payout-accounts").get_json() == {"items": [paypal]}


def test_paypal_needs_a_valid_address(api, creator):
    caller = api(creator, "sell")
    body = assert_problem(caller.post("/api/v1/payout-accounts/paypal", json={"email": "not-an-address"}), 422)
    assert "valid e-mail" in body["detail"]
    assert_problem(caller.post("/api/v1/payout-accounts/paypal", json={}), 422)
    assert_problem(caller.post("/api/v1/payout-accounts/paypal", json={"email": "a@b.test", "extra": 1}), 422)
    assert db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id)) is None


def test_stripe_gives_the_set_up_page_and_is_active_once_set_up(api, creator):
    body = api(creator, "sell").post("/api/v1/payout-accounts/stripe").get_json()
    # The local gateway has nothing to fill in: it comes straight back to the earnings page.
    assert body["onboarding_url"] == "http://localhost/studio/earnings"
    assert body["account"]["provider"] == "stripe" and body["account"]["destination"].startswith("acct_local_")
    [account] = api(creator, "read").get("/api/v1/payout-accounts").get_json()["items"]
    assert account["status"] == "active"  # the account.updated event was applied


def test_payout_accounts_need_their_scopes(anonymous, api, creator):
    assert_problem(anonymous.get("/api/v1/payout-accounts"), 401)
    assert_problem(api(creator, "sell").get("/api/v1/payout-accounts"), 403)
    for path, body in (("/api/v1/payout-accounts/stripe", None),
                       ("/api/v1/payout-accounts/paypal", {"email": "carl@example.test"})):
        assert_problem(anonymous.post(path, json=body), 401)
        assert_problem(api(creator, "read", "teach", "learn").post(path, json=body), 403)
    assert db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id)) is None


def test_payout_accounts_are_the_tokens_own(api, make_user, paypal):
    assert api(make_user(), "read").get("/api/v1/payout-accounts").get_json() == {"items": []}


# --- POST /payouts -------------------------------------------------------------------------

def test_a_withdrawal_moves_the_money_out_of_available(api, creator, available, paypal):
    resp = api(creator, "sell").post(PAYOUTS, json=usd(2000), headers=idempotency())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    [payout] = payouts_of(creator)
    assert body["id"] == payout.id and body["amount"] == usd(2000) and body["provider"] == "paypal"
    assert body["status"] in ("queued", "processing", "paid")
    assert balances(creator)["available"] == 549


def test_a_replayed_withdrawal_answers_the_same_and_moves_nothing_twice(api, creator, available, paypal):
    caller, headers = api(creator, "sell"), idempotency()
    first = caller.post(PAYOUTS, json=usd(2000), headers=headers)
    after_first = ledger_rows()
    again = caller.post(PAYOUTS, json=usd(2000), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert ledger_rows() == after_first and len(payouts_of(creator)) == 1
    assert balances(creator)["available"] == 549


def test_a_withdrawal_key_reused_for_another_amount_is_a_422(api, creator, available, paypal):
    caller, headers = api(creator, "sell"), idempotency()
    caller.post(PAYOUTS, json=usd(2000), headers=headers)
    after_first = ledger_rows()
    body = assert_problem(caller.post(PAYOUTS, json=usd(2100), headers=headers), 422)
    assert "Idempotency-Key" in body["detail"]
    assert ledger_rows() == after_first and len(payouts_of(creator)) == 1


def test_withdrawals_refuse_bad_amounts(api, creator, available, paypal):
    caller = api(creator, "sell")
    before = ledger_rows()
    assert "at most 25.49" in assert_problem(caller.post(PAYOUTS, json=usd(2600), headers=idempotency()),
                                             422)["detail"]
    assert "smallest withdrawal" in assert_problem(caller.post(PAYOUTS, json=usd(500), headers=idempotency()),
                                                   422)["detail"]
    assert_problem(caller.post(PAYOUTS, json=usd(0), headers=idempotency()), 422)
    assert_problem(caller.post(PAYOUTS, json={"amount_minor": "20.00", "currency": "USD"},
                               headers=idempotency()), 422)
    assert_problem(caller.post(PAYOUTS, json={"amount_minor": 2000, "currency": "EUR"}, headers=idempotency()), 422)
    assert_problem(caller.post(PAYOUTS, json=usd(2000)), 422)  # no Idempotency-Key
    assert ledger_rows() == before and payouts_of(creator) == []


def test_a_withdrawal_without_a_payout_account_is_a_409(api, creator, available):
    body = assert_problem(api(creator, "sell").post(PAYOUTS, json=usd(2000), headers=idempotency()), 409)
    assert "Connect a Stripe or PayPal account" in body["detail"]
    assert payouts_of(creator) == []


def test_withdrawals_need_the_sell_scope(anonymous, api, creator, available, paypal):
    before = ledger_rows()
    assert_problem(anonymous.post(PAYOUTS, json=usd(2000), headers=idempotency()), 401)
    assert_problem(api(creator, "read", "learn", "teach").post(PAYOUTS, json=usd(2000), headers=idempotency()), 403)
    assert ledger_rows() == before and payouts_of(creator) == []


# --- GET /payouts, /payouts/{id} -----------------------------------------------------------

def test_payouts_are_listed_newest_first_with_their_status(api, learner, creator, available, paypal):
    second_sale = buy(learner, paid_course(creator, price_minor=2999))
    assert escrow.release(second_sale, reason="test")
    db.session.commit()
    caller = api(creator, "sell")
    first = caller.post(PAYOUTS, json=usd(2000), headers=idempotency()).get_json()
    second = caller.post(PAYOUTS, json=usd(3000), headers=idempotency()).get_json()
    reader = api(creator, "read")
    page = reader.get(f"{PAYOUTS}?limit=1").get_json()
    assert [p["id"] for p in page["items"]] == [second["id"]]
    rest = reader.get(f"{PAYOUTS}?limit=1&cursor={page['next_cursor']}").get_json()
    assert [p["id"] for p in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    one = reader.get(f"{PAYOUTS}/{first['id']}").get_json()
    assert one["amount"] == usd(2000) and one["status"] == "paid" and one["settled_at"].endswith("Z")


def test_payouts_refuse_bad_paging(api, creator):
    assert_problem(api(creator, "read").get(f"{PAYOUTS}?limit=-1"), 422)
    assert_problem(api(creator, "read").get(f"{PAYOUTS}?cursor=abc"), 422)


def test_someone_elses_payout_is_not_found(anonymous, api, creator, make_user, available, paypal):
    payout_id = api(creator, "sell").post(PAYOUTS, json=usd(2000), headers=idempotency()).get_json()["id"]
    assert_problem(api(make_user(), "read").get(f"{PAYOUTS}/{payout_id}"), 404)
    assert api(make_user(), "read").get(PAYOUTS).get_json()["items"] == []
    assert_problem(api(creator, "read").get(f"{PAYOUTS}/999999"), 404)
    assert_problem(api(creator, "sell").get(f"{PAYOUTS}/{payout_id}"), 403)
    assert_problem(api(creator, "sell").get(PAYOUTS), 403)
    assert_problem(anonymous.get(f"{PAYOUTS}/{payout_id}"), 401)
    assert_problem(anonymous.get(PAYOUTS), 401)
