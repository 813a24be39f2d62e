"""/api/v1/admin/finance (`admin:manage_finance`): the figures, the commission rate and its
history, payouts waiting for approval, and dispute rulings, through the services the admin
finance pages call; the money-moving POSTs need an Idempotency-Key and replay."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.disputes import open_chargeback, open_dispute
from app.commerce.models import CommissionRate, Dispute, Payout
from app.commerce.payouts import connect_paypal, request_payout
from app.commerce.settings import set_setting
from app.extensions import db
from app.moderation.models import AuditLog
from tests.support.api import assert_admin_only, assert_problem
from tests.support.commerce import balances, buy, paid_course, uid

ROUTES = [
    ("GET", "/api/v1/admin/finance/figures", {}),
    ("GET", "/api/v1/admin/finance/commission", {}),
    ("POST", "/api/v1/admin/finance/commission", {"json": {"rate_bps": 1000, "reason": "Promo"}}),
    ("GET", "/api/v1/admin/finance/payouts", {}),
    ("POST", "/api/v1/admin/finance/payouts/1/approve", {"headers": {"Idempotency-Key": "k" * 16}}),
    ("POST", "/api/v1/admin/finance/payouts/1/reject", {"json": {"reason": "No"},
                                                        "headers": {"Idempotency-Key": "k" * 16}}),
    ("GET", "/api/v1/admin/finance/disputes", {}),
    ("GET", "/api/v1/admin/finance/disputes/1", {}),
    ("POST", "/api/v1/admin/finance/disputes/1/rule", {"json": {"ruling": "rejected", "decision": "No"},
                                                       "headers": {"Idempotency-Key": "k" * 16}}),
]


@pytest.mark.parametrize("method, path, kwargs", ROUTES)
def test_every_route_needs_the_finance_scope_and_permission(client, method, path, kwargs):
    assert_admin_only(client, "manage_finance", method, path, **kwargs)


@pytest.mark.parametrize("path", ["/api/v1/admin/finance/payouts", "/api/v1/admin/finance/disputes"])
@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"cursor": "forged"}, {"unknown": 1}])
def test_bad_list_queries_are_422(finance, path, query):
    assert_problem(finance.get(path, query_string=query), 422)


@pytest.fixture
def finance_admin(make_user):
    return make_user(email="finance@example.test", display_name="Fiona Finance", permissions=("manage_finance",))


@pytest.fixture
def finance(api, finance_admin):
    return api(finance_admin, "admin:manage_finance")


def key() -> dict:
    return {"Idempotency-Key": uid("idem")}


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


@pytest.fixture
def sale(learner, creator):
    return buy(learner, paid_course(creator, title="Painting with Light"))


# --- figures ---------------------------------------------------------------------------------

def test_the_figures_are_the_finance_pages(finance, sale):
    body = finance.get("/api/v1/admin/finance/figures").get_json()
    assert body["period"] == "month"
    [row] = body["rows"]
    assert row["label"] == sale.paid_at.strftime("%Y-%m") and row["sales"] == 1
    assert row["gross"] == {"amount_minor": 2999, "currency": "USD"}
    assert row["platform_revenue"]["amount_minor"] == sale.commission_minor
    assert row["refunds"]["amount_minor"] == 0 and row["net"]["amount_minor"] == 2999
    day = finance.get("/api/v1/admin/finance/figures?period=day").get_json()
    assert [r["label"] for r in day["rows"]] == [sale.paid_at.strftime("%Y-%m-%d")]


def test_an_unknown_period_is_422(finance):
    problem = assert_problem(finance.get("/api/v1/admin/finance/figures?period=decade"), 422)
    assert problem["errors"][0]["field"] == "period"


# --- commission ------------------------------------------------------------------------------

def test_the_commission_starts_at_the_configured_default(finance, app):
    body = finance.get("/api/v1/admin/finance/commission").get_json()
    default = app.config["DEFAULT_COMMISSION_BPS"]
    assert body == {"rate_bps": default, "default_rate_bps": default, "history": []}


def test_setting_the_rate_keeps_it_in_the_history(finance, finance_admin):
    resp = finance.post("/api/v1/admin/finance/commission", json={"rate_bps": 1200, "reason": " Promo "})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    entry = resp.get_json()
    assert entry["rate_bps"] == 1200 and entry["reason"] == "Promo"
    assert entry["set_by"]["id"] == finance_admin.id and entry["effective_at"].endswith("Z")
    later = (date.today() + timedelta(days=10)).isoformat()
    resp = finance.post("/api/v1/admin/finance/commission",
                        json={"rate_bps": 900, "reason": "Next month", "effective_on": later})
    assert resp.status_code == 201 and resp.get_json()["effective_at"] == f"{later}T00:00:00Z"
    body = finance.get("/api/v1/admin/finance/commission").get_json()
    assert body["rate_bps"] == 1200  # the later one is not in force yet
    assert [h["rate_bps"] for h in body["history"]] == [900, 1200]
    assert audit_actions().count("commission.rate_set") == 2


@pytest.mark.parametrize("body, field", [
    ({"rate_bps": 10001, "reason": "Greedy"}, "rate_bps"),  # the service: 0 to 10000
    ({"rate_bps": -1, "reason": "Generous"}, "rate_bps"),
    ({"rate_bps": 1000, "reason": "  "}, "reason"),  # the service: say why
    ({"rate_bps": "lots", "reason": "x"}, "rate_bps"),
    ({"rate_bps": 1000}, "reason"),
    ({"rate_bps": 1000, "reason": "x", "effective_on": "soon"}, "effective_on"),
])
def test_bad_rates_are_422(finance, body, field):
    problem = assert_problem(finance.post("/api/v1/admin/finance/commission", json=body), 422)
    if field:
        assert field in {error["field"] for error in problem["errors"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommissionRate)) == 0


# --- payouts ---------------------------------------------------------------------------------

@pytest.fixture
def big_payout(admin, learner, creator, make_user):
    """A withdrawal of 40.00 above the approval threshold (20.00), waiting for an admin."""
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    set_setting(admin, "payouts", {"minimum_minor": 500, "approval_threshold_minor": 2000})
    course = paid_course(creator)
    buy(learner, course)
    buy(make_user(), course)
    connect_paypal(creator, email="carl@example.test")
    payout = request_payout(creator, 4000)
    db.session.commit()
    assert payout.status == "awaiting_approval"
    return payout


def test_the_payout_queue_lists_those_waiting(finance, big_payout, creator):
    body = finance.get("/api/v1/admin/finance/payouts").get_json()
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["id"] == big_payout.id and item["amount"] == {"amount_minor": 4000, "currency": "USD"}
    assert item["creator"]["display_name"] == creator.display_name
    assert (item["provider"], item["destination"], item["status"]) == ("paypal", "carl@example.test",
                                                                     "awaiting_approval")


def test_the_payout_queue_pages_by_cursor(finance, big_payout, creator, admin):
    set_setting(admin, "payouts", {"minimum_minor": 500, "approval_threshold_minor": 500})
    second = request_payout(creator, 1000)
    db.session.commit()
    page = finance.get("/api/v1/admin/finance/payouts?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [big_payout.id] and page["next_cursor"]
    rest = finance.get("/api/v1/admin/finance/payouts", query_string={"limit": 1, "cursor": page["next_cursor"]})
    assert [item["id"] for item in rest.get_json()["items"]] == [second.id] and rest.get_json()["next_cursor"] is None
    assert_problem(finance.get("/api/v1/admin/finance/payouts?cursor=nope"), 422)


def test_approving_a_payout_sends_it_once_and_replays(finance, big_payout, finance_admin):
    url = f"/api/v1/admin/finance/payouts/{big_payout.id}/approve"
    headers = key()
    resp = finance.post(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["status"] in ("queued", "processing", "paid")  # the job may have run already
    db.session.expire_all()
    payout = db.session.get(Payout, big_payout.id)
    assert payout.status != "awaiting_approval" and payout.approved_by_id == finance_admin.id
    replay = finance.post(url, headers=headers)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == resp.get_json()
    assert audit_actions().count("payout.approved") == 1
    assert_problem(finance.post(url, headers=key()), 409)  # a new key: not waiting any more
    assert ledger.check_invariants() == []


def test_money_moving_posts_need_an_idempotency_key(finance, big_payout):
    problem = assert_problem(finance.post(f"/api/v1/admin/finance/payouts/{big_payout.id}/approve"), 422)
    assert "Idempotency-Key" in str(problem["errors"])
    assert_problem(finance.post(f"/api/v1/admin/finance/payouts/{big_payout.id}/reject",
                                json={"reason": "No"}), 422)
    assert db.session.get(Payout, big_payout.id).status == "awaiting_approval"


def test_rejecting_a_payout_returns_the_money(finance, big_payout, creator):
    url = f"/api/v1/admin/finance/payouts/{big_payout.id}/reject"
    problem = assert_problem(finance.post(url, json={"reason": " "}, headers=key()), 422)
    assert "Tell the creator why" in problem["detail"]
    assert_problem(finance.post(url, json={}, headers=key()), 422)
    resp = finance.post(url, json={"reason": "Verify your identity first."}, headers=key())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["status"] == "rejected"
    assert balances(creator) == {"escrow": 0, "available": 5098, "payout_in_flight": 0}
    assert_problem(finance.post(url, json={"reason": "Twice"}, headers=key()), 409)


def test_unknown_payouts_are_404(finance):
    assert_problem(finance.post("/api/v1/admin/finance/payouts/999999/approve", headers=key()), 404)
    assert_problem(finance.post("/api/v1/admin/finance/payouts/999999/reject", json={"reason": "x"},
                                headers=key()), 404)


# --- disputes --------------------------------------------------------------------------------

@pytest.fixture
def dispute(sale, learner):
    dispute = open_dispute(learner, sale, reason="quality", message="Blurry videos.")
    db.session.commit()
    return dispute


def rule(finance, dispute, **body):
    return finance.post(f"/api/v1/admin/finance/disputes/{dispute.id}/rule", json=body, headers=key())


def test_open_disputes_are_listed_with_their_timeline(finance, dispute, learner, creator):
    body = finance.get("/api/v1/admin/finance/disputes").get_json()
    [item] = body["items"]
    assert item["id"] == dispute.id and item["course_title"] == "Painting with Light"
    assert item["learner"]["id"] == learner.id and item["creator"]["id"] == creator.id
    assert item["reason_label"] == "The quality is unacceptable" and item["status"] == "open"
    assert item["refundable"] == {"amount_minor": 2999, "currency": "USD"} and item["refund"] is None
    assert [(e["role"], e["body"]) for e in item["timeline"]] == [("learner", "Blurry videos.")]
    assert finance.get(f"/api/v1/admin/finance/disputes/{dispute.id}").get_json() == item
    assert_problem(finance.get("/api/v1/admin/finance/disputes/999999"), 404)
    assert_problem(finance.get("/api/v1/admin/finance/disputes?limit=500"), 422)


def test_a_partial_refund_ruling(finance, dispute, finance_admin):
    resp = rule(finance, dispute, ruling="partial_refund", refund_minor=1000, decision="Some lessons are thin.")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["status"], body["ruling"], body["refund"]["amount_minor"]) == ("ruled", "partial_refund", 1000)
    assert body["timeline"][-1] == {"role": "admin", "author": {"id": finance_admin.id, "display_name":
                                    "Fiona Finance", "headline": ""}, "body": "Some lessons are thin.",
                                    "created_at": body["timeline"][-1]["created_at"]}
    assert finance.get("/api/v1/admin/finance/disputes").get_json()["items"] == []
    assert_problem(rule(finance, dispute, ruling="rejected", decision="Again"), 409)
    assert audit_actions().count("dispute.ruled") == 1
    assert ledger.check_invariants() == []


@pytest.mark.parametrize("body, field", [
    ({"ruling": "partial_refund", "refund_minor": 2999, "decision": "Too much"}, "refund_minor"),  # the service
    ({"ruling": "partial_refund", "decision": "How much?"}, "refund_minor"),
    ({"ruling": "rejected", "decision": " "}, "decision"),
    ({"ruling": "maybe", "decision": "Hmm"}, "ruling"),
    ({"ruling": "rejected"}, "decision"),
    ({"ruling": "partial_refund", "refund_minor": "half", "decision": "x"}, "refund_minor"),
])
def test_bad_rulings_are_422(finance, dispute, body, field):
    problem = assert_problem(rule(finance, dispute, **body), 422)
    if field:
        assert field in {error["field"] for error in problem["errors"]}
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).status == "open"


def test_a_party_cannot_rule_and_a_chargeback_is_not_ruled_here(api, make_user, creator, finance):
    buyer = make_user(permissions=("manage_finance",))
    order = buy(buyer, paid_course(creator))
    own = open_dispute(buyer, order, reason="quality", message="Mine")
    db.session.commit()
    assert_problem(rule(api(buyer, "admin:manage_finance"), own, ruling="full_refund", decision="Me"), 403)
    chargeback = open_chargeback(buy(make_user(), paid_course(creator)), stripe_dispute_id=uid("dp"),
                                 reason="fraudulent")
    db.session.commit()
    assert_problem(rule(finance, chargeback, ruling="full_refund", decision="Bank"), 409)


def test_ruling_on_an_unknown_dispute_is_404(finance):
    resp = finance.post("/api/v1/admin/finance/disputes/999999/rule", json={"ruling": "rejected", "decision": "x"},
                        headers=key())
    assert_problem(resp, 404)
