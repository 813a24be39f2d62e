"""Admin finance (permission `manage_finance`): figures per period, commission and money
policies, ledger transactions, the queues (payouts, refunds, disputes, failed events), and
every way in that must be refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce import escrow
from app.commerce.gateways.signing import sign
from app.commerce.models import (
    CommissionRate,
    Dispute,
    LedgerTransaction,
    PaymentEvent,
    Payout,
    PayoutAccount,
    PlatformSetting,
    Refund,
)
from app.dbtypes import utcnow
from app.extensions import db
from app.moderation.models import AuditLog
from tests.support.checkout import bought, completed, order_of, start_checkout, stripe_payload
from tests.support.pages import HX, text


@pytest.fixture
def finance_admin(make_user):
    return make_user(
        email="finance@example.test", display_name="Fiona Finance", permissions=("manage_finance",)
    )


@pytest.fixture
def as_finance(client, login, finance_admin):
    return login(finance_admin)


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Painting with Light", status="published", price_minor=2999)


@pytest.fixture
def buyer(app, login, learner):
    """The learner's own browser."""
    browser = app.test_client()
    login(learner, on=browser)
    return browser


@pytest.fixture
def sale(buyer, learner, course):
    return bought(buyer, learner, course)


@pytest.fixture
def creator_browser(app, login, creator):
    browser = app.test_client()
    login(creator, on=browser)
    return browser


def audit_rows(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def figures_row(body: str, label: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", body)
    assert row, f"no row {label}"
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def deliver(client, app, payload: bytes):
    resp = client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": sign(payload, app.config["STRIPE_WEBHOOK_SECRET"])},
    )
    assert resp.status_code == 200
    return resp


# --- overview ---------------------------------------------------------------------------------


@pytest.mark.parametrize("period, label", [("day", "%Y-%m-%d"), ("month", "%Y-%m"), ("year", "%Y")])
def test_overview_shows_the_sale_per_period(client, as_finance, sale, period, label):
    resp = client.get(f"/admin/finance?period={period}")
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert f"Sales by {period}" in body
    # sales, gross, platform revenue, refunds, net
    assert figures_row(body, sale.paid_at.strftime(label)) == ["1", "$29.99", "$4.50", "$0.00", "$29.99"]


def test_overview_by_week(client, as_finance, sale):
    iso = sale.paid_at.isocalendar()
    body = text(client.get("/admin/finance?period=week"))
    assert figures_row(body, f"{iso.year}-W{iso.week:02d}") == ["1", "$29.99", "$4.50", "$0.00", "$29.99"]


def test_overview_counts_a_refund(client, as_finance, buyer, sale):
    buyer.post(f"/checkout/orders/{sale.id}/refund", data={"reason": "Not for me"})
    body = text(client.get("/admin/finance?period=day"))
    assert figures_row(body, sale.paid_at.strftime("%Y-%m-%d")) == ["1", "$29.99", "$0.00", "$29.99", "$0.00"]


def test_overview_with_an_unknown_period_shows_months(client, as_finance):
    for period in ("decade", "", "<script>"):
        resp = client.get("/admin/finance", query_string={"period": period})
        assert resp.status_code == 200 and "Sales by month" in text(resp)
    assert "No sales yet." in text(resp)


def test_overview_fragment(client, as_finance, sale):
    resp = client.get("/admin/finance?period=day", headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data and "Sales by day" in text(resp)


# --- commission -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form, message",
    [
        ({"rate_bps": "abc", "reason": "x"}, "rate_bps must be a whole number."),
        ({"rate_bps": "-1", "reason": "x"}, "rate_bps must be a whole number from 0 to 10000."),
        ({"rate_bps": "10001", "reason": "x"}, "rate_bps must be a whole number from 0 to 10000."),
        ({"rate_bps": "15.5", "reason": "x"}, "rate_bps must be a whole number."),
        ({"rate_bps": "", "reason": "x"}, "rate_bps must be a whole number."),
        ({"reason": "x"}, "rate_bps must be a whole number."),
        (
            {"rate_bps": "99999999999999999999999999", "reason": "x"},
            "rate_bps must be a whole number from 0 to 10000.",
        ),
        ({"rate_bps": "1200"}, "Say why the rate changes"),
        ({"rate_bps": "1200", "reason": "   "}, "Say why the rate changes"),
        ({"rate_bps": "1200", "reason": "x", "effective_on": "next week"}, "Enter the date as YYYY-MM-DD."),
        ({"rate_bps": "1200", "reason": "x", "effective_on": "2025-02-30"}, "Enter the date as YYYY-MM-DD."),
    ],
)
def test_a_bad_commission_is_refused_and_nothing_saved(client, as_finance, form, message):
    resp = client.post("/admin/finance/commission", data=form)
    assert resp.status_code == 422
    body = text(resp)
    assert b"<html" in resp.data and message in body
    assert "Commission: 15%" in body
    assert db.session.scalar(sa.select(sa.func.count(CommissionRate.id))) == 0
    assert audit_rows("commission.rate_set") == []


def test_a_bad_commission_over_htmx_gets_the_fragment(client, as_finance):
    resp = client.post("/admin/finance/commission", data={"rate_bps": "abc", "reason": "x"}, headers=HX)
    assert resp.status_code == 422 and b"<html" not in resp.data
    assert "rate_bps must be a whole number." in text(resp) and 'value="abc"' in text(resp)


def test_setting_the_commission_keeps_history_and_audits(client, as_finance, finance_admin, buyer, course):
    resp = client.post(
        "/admin/finance/commission",
        data={"rate_bps": "1250", "reason": "Spring promotion"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    body = text(resp)
    assert "Commission rate saved." in body and "Commission: 12.5%" in body
    assert re.search(r"<td>12\.5%</td><td>Spring promotion</td><td>Fiona Finance</td>", body)
    [entry] = db.session.scalars(sa.select(CommissionRate)).all()
    assert entry.rate_bps == 1250 and entry.set_by_id == finance_admin.id
    [audit] = audit_rows("commission.rate_set")
    assert audit.actor_id == finance_admin.id and audit.before == {"rate_bps": 1500}
    assert audit.after["rate_bps"] == 1250
    # The next sale takes the new rate.
    assert "Lyceum's commission (12.5%)" in text(buyer.get(f"/checkout/courses/{course.id}"))


def test_a_future_commission_waits_for_its_date(client, as_finance):
    later = (utcnow() + timedelta(days=10)).date()
    day = later.isoformat()
    client.post(
        "/admin/finance/commission", data={"rate_bps": "2000", "reason": "Later", "effective_on": day}
    )
    body = text(client.get("/admin/finance"))
    assert "Commission: 15%" in body
    assert f'<td><time datetime="{day}T00:00:00Z">{later:%d %b %Y} 00:00 UTC</time></td><td>20%</td>' in body


# --- policies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, form, message",
    [
        ("escrow", {"mode": "sometimes", "days": "30"}, "Choose an escrow policy from the list."),
        ("escrow", {"days": "30"}, "Choose an escrow policy from the list."),
        ("escrow", {"mode": "days", "days": "x"}, "days must be a whole number."),
        ("escrow", {"mode": "days", "days": "366"}, "days must be a whole number from 0 to 365."),
        ("escrow", {"mode": "days", "days": "-1"}, "days must be a whole number from 0 to 365."),
        ("refunds", {"window_days": "", "max_consumed_percent": "30"}, "window_days must be a whole number."),
        (
            "refunds",
            {"window_days": "30", "max_consumed_percent": "101"},
            "max_consumed_percent must be a whole number from 0 to 100.",
        ),
        ("refunds", {"window_days": "30"}, "max_consumed_percent must be a whole number."),
        (
            "payouts",
            {"minimum_minor": "0", "approval_threshold_minor": "1000"},
            "minimum_minor must be a whole number from 1 to 1000000000.",
        ),
        (
            "payouts",
            {"minimum_minor": "20.5", "approval_threshold_minor": "1000"},
            "minimum_minor must be a whole number.",
        ),
        (
            "payouts",
            {"minimum_minor": "2000", "approval_threshold_minor": "lots"},
            "approval_threshold_minor must be a whole number.",
        ),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_saved(client, as_finance, key, form, message):
    resp = client.post(f"/admin/finance/settings/{key}", data=form)
    assert resp.status_code == 422
    assert message in text(resp)
    assert db.session.get(PlatformSetting, key) is None
    assert audit_rows(f"setting.{key}.changed") == []


def test_an_unknown_policy_is_not_found(client, as_finance):
    assert client.post("/admin/finance/settings/anything", data={"x": "1"}).status_code == 404


@pytest.mark.parametrize(
    "key, form, saved",
    [
        ("escrow", {"mode": "days", "days": "14"}, {"mode": "days", "days": 14}),
        ("escrow", {"mode": "none", "days": "0"}, {"mode": "none", "days": 0}),
        (
            "refunds",
            {"window_days": "14", "max_consumed_percent": "10"},
            {"window_days": 14, "max_consumed_percent": 10},
        ),
        (
            "payouts",
            {"minimum_minor": "5000", "approval_threshold_minor": "50000"},
            {"minimum_minor": 5000, "approval_threshold_minor": 50000},
        ),
    ],
)
def test_saving_a_policy_audits_it(client, as_finance, key, form, saved):
    resp = client.post(
        f"/admin/finance/settings/{key}",
        data={**form, "csrf_token": "tok", "stray": "x"},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Setting saved." in text(resp)
    db.session.expire_all()
    assert db.session.get(PlatformSetting, key).value == saved  # only the policy's own fields
    [audit] = audit_rows(f"setting.{key}.changed")
    assert audit.after == saved


def test_the_escrow_policy_applies_to_the_next_sale(client, as_finance, buyer, learner, course, creator):
    client.post("/admin/finance/settings/escrow", data={"mode": "none", "days": "0"})
    order = bought(buyer, learner, course)
    assert order.escrow_mode == "none" and order.escrow_released_at is not None
    db.session.expire_all()
    assert db.session.get(type(creator), creator.id).balance == 2549


# --- per-course commission override --------------------------------------------------------------


def test_setting_a_course_commission_override(client, as_finance, finance_admin, buyer, course):
    resp = client.post(
        f"/admin/finance/courses/{course.id}/commission",
        data={"rate_bps": "1000", "reason": "Partner"},
        headers={"Referer": "http://evil.test/phish"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/")
    db.session.expire_all()
    assert db.session.get(type(course), course.id).commission_bps_override == 1000
    [audit] = audit_rows("commission.course_override")
    assert audit.actor_id == finance_admin.id and audit.after == {"rate_bps": 1000}
    assert "Lyceum's commission (10%)" in text(buyer.get(f"/checkout/courses/{course.id}"))
    client.post(
        f"/admin/finance/courses/{course.id}/commission", data={"rate_bps": "", "reason": "Back to normal"}
    )
    db.session.expire_all()
    assert db.session.get(type(course), course.id).commission_bps_override is None


@pytest.mark.parametrize("rate", ["abc", "-1", "10001", "12.5"])
def test_a_bad_course_commission_is_refused(client, as_finance, course, rate):
    resp = client.post(
        f"/admin/finance/courses/{course.id}/commission", data={"rate_bps": rate, "reason": "x"}
    )
    assert resp.status_code == 422 and "rate_bps must be a whole number" in text(resp)
    db.session.expire_all()
    assert db.session.get(type(course), course.id).commission_bps_override is None
    assert audit_rows("commission.course_override") == []


def test_course_commission_for_an_unknown_course_is_not_found(client, as_finance):
    assert (
        client.post("/admin/finance/courses/999999/commission", data={"rate_bps": "1000"}).status_code == 404
    )


# --- transactions -------------------------------------------------------------------------------


def test_transactions_list_and_filters(client, as_finance, buyer, sale, creator):
    buyer.post(f"/checkout/orders/{sale.id}/refund", data={"reason": "Not for me"})
    resp = client.get("/admin/finance/transactions")
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert f"sale:{sale.id}" in body and "refund:" in body
    assert '<option value="refund">' in body and '<option value="sale">' in body

    only_sales = text(client.get("/admin/finance/transactions?kind=sale"))
    assert f"sale:{sale.id}" in only_sales and "<code>refund:" not in only_sales

    fragment = client.get("/admin/finance/transactions?kind=refund", headers=HX)
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert "<code>refund:" in text(fragment) and f"<code>sale:{sale.id}</code>" not in text(fragment)

    escrow_account = f"liability:creator:{creator.id}:escrow"
    by_account = text(client.get("/admin/finance/transactions", query_string={"account": escrow_account}))
    assert f"<code>sale:{sale.id}</code>" in by_account and "<code>refund:" in by_account
    nobody = text(
        client.get("/admin/finance/transactions", query_string={"account": "liability:creator:0:escrow"})
    )
    assert "No transactions." in nobody
    assert "No transactions." in text(client.get("/admin/finance/transactions?kind=nonsense"))


@pytest.mark.parametrize("number", ["0", "-5", "abc", "99999999999999999999999", "9223372036854775807"])
def test_transactions_with_an_odd_page_number_never_fail(client, as_finance, sale, number):
    resp = client.get(f"/admin/finance/transactions?page={number}")
    assert resp.status_code == 200


# --- queues: payouts ---------------------------------------------------------------------------


@pytest.fixture
def big_payout(client, as_finance, creator_browser, sale, creator):
    """A withdrawal above the approval threshold (lowered to $10), waiting for an admin."""
    client.post(
        "/admin/finance/settings/payouts", data={"minimum_minor": "500", "approval_threshold_minor": "1000"}
    )
    assert escrow.release(order_of(sale.buyer, sale.course), reason="test")
    db.session.add(
        PayoutAccount(user_id=creator.id, provider="paypal", external_id="carl@example.test", status="active")
    )
    db.session.commit()
    resp = creator_browser.post("/studio/earnings/withdraw", data={"amount": "25.49"}, follow_redirects=True)
    assert "waiting for an admin's approval" in text(resp)
    return db.session.scalar(sa.select(Payout).where(Payout.creator_id == creator.id))


def test_queue_lists_a_payout_waiting_for_approval(client, big_payout):
    resp = client.get("/admin/finance/queues")
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert "$25.49" in body and "Carl Creator" in body and f"Approve payout #{big_payout.id}" in body
    fragment = client.get("/admin/finance/queues", headers=HX)
    assert (
        fragment.status_code == 200
        and b"<html" not in fragment.data
        and f"payout #{big_payout.id}" in text(fragment)
    )


def test_approving_a_payout_pays_it(client, big_payout, creator_browser, finance_admin):
    resp = client.post(f"/admin/finance/payouts/{big_payout.id}/approve", follow_redirects=True)
    assert resp.status_code == 200 and "Payout approved and queued." in text(resp)
    db.session.expire_all()
    payout = db.session.get(Payout, big_payout.id)
    assert payout.status == "paid" and payout.approved_by_id == finance_admin.id
    assert [a.target_id for a in audit_rows("payout.approved")] == [payout.id]
    assert f"Approve payout #{payout.id}" not in text(resp)
    body = text(creator_browser.get("/studio/earnings"))
    assert re.search(r"<td>\$25\.49</td>\s*<td>paypal</td><td>paid</td>", body)
    assert client.post(f"/admin/finance/payouts/{payout.id}/approve").status_code == 409


def test_rejecting_a_payout_needs_a_reason_and_returns_the_money(
    client, big_payout, creator_browser, creator
):
    resp = client.post(
        f"/admin/finance/payouts/{big_payout.id}/reject", data={"reason": " "}, follow_redirects=True
    )
    assert "Tell the creator why." in text(resp)
    db.session.expire_all()
    assert db.session.get(Payout, big_payout.id).status == "awaiting_approval"
    resp = client.post(
        f"/admin/finance/payouts/{big_payout.id}/reject",
        data={"reason": "Check your PayPal"},
        follow_redirects=True,
    )
    assert "the money is back in the creator's balance" in text(resp)
    db.session.expire_all()
    assert db.session.get(Payout, big_payout.id).status == "rejected"
    assert db.session.get(type(creator), creator.id).balance == 2549
    assert len(audit_rows("payout.rejected")) == 1
    assert "Check your PayPal" in text(creator_browser.get("/studio/earnings"))


def test_unknown_payout_is_not_found(client, as_finance):
    assert client.post("/admin/finance/payouts/999999/approve").status_code == 404
    assert client.post("/admin/finance/payouts/999999/reject", data={"reason": "x"}).status_code == 404


# --- queues: refunds ----------------------------------------------------------------------------


@pytest.fixture
def late_refund(buyer, sale):
    """A refund requested after the window: it waits for an admin."""
    sale.paid_at = utcnow() - timedelta(days=45)
    db.session.commit()
    buyer.post(f"/checkout/orders/{sale.id}/refund", data={"reason": "Changed my mind"})
    return db.session.scalar(sa.select(Refund).where(Refund.order_id == sale.id))


def test_approving_a_refund_request(client, as_finance, late_refund, learner, course):
    body = text(client.get("/admin/finance/queues"))
    assert "“Changed my mind”" in body and f'action="/admin/finance/refunds/{late_refund.id}"' in body
    resp = client.post(
        f"/admin/finance/refunds/{late_refund.id}",
        data={"decision": "approve", "note": "OK"},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Refund decided." in text(resp)
    db.session.expire_all()
    assert db.session.get(Refund, late_refund.id).status == "succeeded"
    assert order_of(learner, course).status == "refunded"
    assert len(audit_rows("refund.approved")) == 1
    assert (
        client.post(f"/admin/finance/refunds/{late_refund.id}", data={"decision": "approve"}).status_code
        == 409
    )


def test_rejecting_a_refund_request(client, as_finance, late_refund, learner, course, buyer):
    client.post(
        f"/admin/finance/refunds/{late_refund.id}", data={"decision": "reject", "note": "Too late, sorry"}
    )
    db.session.expire_all()
    assert db.session.get(Refund, late_refund.id).status == "rejected"
    assert order_of(learner, course).status == "paid"
    assert len(audit_rows("refund.rejected")) == 1
    assert "Too late, sorry" in text(buyer.get("/checkout/purchases"))


@pytest.mark.parametrize("form", [{}, {"decision": ""}, {"decision": "maybe"}])
def test_a_refund_decision_must_be_approve_or_reject(client, as_finance, late_refund, form):
    resp = client.post(f"/admin/finance/refunds/{late_refund.id}", data=form)
    assert resp.status_code == 422 and "Choose approve or reject." in text(resp)
    db.session.expire_all()
    assert db.session.get(Refund, late_refund.id).status == "requested"
    assert audit_rows("refund.rejected") == [] and audit_rows("refund.approved") == []


def test_unknown_refund_is_not_found(client, as_finance):
    assert client.post("/admin/finance/refunds/999999", data={"decision": "approve"}).status_code == 404


# --- queues: failed events ----------------------------------------------------------------------


def test_retrying_a_parked_event_once_its_order_has_arrived(client, app, as_finance, buyer, learner, course):
    """A refund arrives before the completed checkout: it is parked, listed, and retried."""
    start_checkout(buyer, course)
    order = order_of(learner, course)
    deliver(
        client,
        app,
        stripe_payload(
            "charge.refunded",
            {
                "id": "ch_early",
                "object": "charge",
                "payment_intent": "pi_test_123",
                "amount": 2999,
                "amount_refunded": 2999,
                "currency": "usd",
                "refunds": {"data": [{"id": "re_early", "amount": 2999, "status": "succeeded"}]},
            },
        ),
    )
    parked = db.session.scalar(sa.select(PaymentEvent).where(PaymentEvent.type == "charge.refunded"))
    assert parked.status == "parked"
    body = text(client.get("/admin/finance/queues"))
    assert f"<code>{parked.event_id}</code>" in body and "<td>parked</td>" in body

    deliver(client, app, completed(order))  # carries payment_intent pi_test_123
    assert order_of(learner, course).status == "paid"
    resp = client.post(f"/admin/finance/events/{parked.id}/retry")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/finance/queues#events"
    db.session.expire_all()
    assert db.session.get(PaymentEvent, parked.id).status == "applied"
    assert order_of(learner, course).status == "refunded"
    assert f"<code>{parked.event_id}</code>" not in text(client.get("/admin/finance/queues"))


def test_retrying_an_unknown_event_is_not_found(client, as_finance):
    assert client.post("/admin/finance/events/999999/retry").status_code == 404


# --- disputes -----------------------------------------------------------------------------------


@pytest.fixture
def dispute(buyer, sale):
    resp = buyer.post(
        f"/checkout/orders/{sale.id}/dispute", data={"reason": "quality", "message": "Blurry videos."}
    )
    assert resp.status_code == 302
    return db.session.scalar(sa.select(Dispute).where(Dispute.order_id == sale.id))


def rule(client, dispute, **form):
    return client.post(f"/admin/finance/disputes/{dispute.id}/rule", data=form, follow_redirects=True)


def test_disputes_are_listed_in_the_queue(client, as_finance, dispute):
    assert client.get("/admin/finance/disputes").headers["Location"] == "/admin/finance/queues#disputes"
    body = text(client.get("/admin/finance/queues"))
    assert f'href="/checkout/disputes/{dispute.id}"' in body and "“Painting with Light”" in body


def test_ruling_a_full_refund(client, as_finance, dispute, learner, course, buyer):
    resp = rule(client, dispute, ruling="full_refund", decision="The videos are unwatchable.")
    assert resp.status_code == 200
    body = text(resp)
    assert "Ruling recorded; both sides are told." in body and "ruling: full refund ($29.99)" in body
    order = order_of(learner, course)
    assert order.status == "refunded" and order.refunded_minor == 2999 and not order.frozen
    assert db.session.get(Dispute, dispute.id).status == "ruled"
    assert len(audit_rows("dispute.ruled")) == 1
    assert "The videos are unwatchable." in text(buyer.get(f"/checkout/disputes/{dispute.id}"))


def test_ruling_a_partial_refund(client, as_finance, dispute, learner, course):
    rule(client, dispute, ruling="partial_refund", amount="10.00", decision="Half the videos are fine.")
    order = order_of(learner, course)
    assert order.status == "paid" and order.refunded_minor == 1000 and not order.frozen
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.amount_minor == 1000 and refund.status == "succeeded"
    sale_tx, refund_tx = db.session.scalars(
        sa.select(LedgerTransaction)
        .where(LedgerTransaction.order_id == order.id)
        .order_by(LedgerTransaction.id)
    ).all()
    assert refund_tx.kind == "refund" and sum(e.amount for e in refund_tx.entries) == 0


def test_rejecting_a_dispute(client, as_finance, dispute, learner, course):
    body = text(rule(client, dispute, ruling="rejected", decision="The videos play fine."))
    assert "ruling: rejected" in body
    order = order_of(learner, course)
    assert order.status == "paid" and order.refunded_minor == 0 and not order.frozen
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0
    assert rule(client, dispute, ruling="rejected", decision="again").status_code == 409


@pytest.mark.parametrize(
    "form, message",
    [
        ({"ruling": "partial_refund", "amount": "abc", "decision": "x"}, "Enter an amount as a number"),
        ({"ruling": "partial_refund", "amount": "-5", "decision": "x"}, "The amount cannot be negative."),
        (
            {"ruling": "partial_refund", "amount": "29.99", "decision": "x"},
            "A partial refund is more than 0 and less than 29.99.",
        ),
        ({"ruling": "partial_refund", "amount": "0", "decision": "x"}, "A partial refund is more than 0"),
        ({"ruling": "partial_refund", "decision": "x"}, "A partial refund is more than 0"),
        ({"ruling": "partial_refund", "amount": "1.001", "decision": "x"}, "Use at most two decimals"),
        ({"ruling": "maybe", "decision": "x"}, "Choose full refund, partial refund or reject."),
        ({"ruling": "full_refund", "decision": "  "}, "Write a message."),
    ],
)
def test_a_bad_ruling_flashes_the_error_and_changes_nothing(
    client, as_finance, dispute, learner, course, form, message
):
    resp = rule(client, dispute, **form)
    assert resp.status_code == 200
    assert message in text(resp) and "flash-error" in text(resp)
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).status == "open"
    order = order_of(learner, course)
    assert order.status == "paid" and order.refunded_minor == 0 and order.frozen
    assert audit_rows("dispute.ruled") == []


def test_ruling_an_unknown_dispute_is_not_found(client, as_finance):
    assert client.post("/admin/finance/disputes/999999/rule", data={"ruling": "rejected"}).status_code == 404


# --- who may come in ----------------------------------------------------------------------------


@pytest.fixture
def other_dispute(buyer, learner, make_course, creator):
    """An open dispute on a second purchase (the first has a refund waiting)."""
    order = bought(buyer, learner, make_course(creator, status="published", price_minor=1500))
    resp = buyer.post(
        f"/checkout/orders/{order.id}/dispute", data={"reason": "access", "message": "No access."}
    )
    assert resp.status_code == 302
    return db.session.scalar(sa.select(Dispute).where(Dispute.order_id == order.id))


@pytest.fixture
def every_finance_url(big_payout, late_refund, other_dispute, course):
    """(method, url, form) for every finance endpoint, with real ids."""
    dispute = other_dispute
    event = db.session.scalar(sa.select(PaymentEvent).limit(1))
    return [
        ("get", "/admin/finance", None),
        ("get", "/admin/finance?period=day", None),
        ("get", "/admin/finance/transactions", None),
        ("get", "/admin/finance/transactions?kind=sale", None),
        ("get", "/admin/finance/queues", None),
        ("get", "/admin/finance/disputes", None),
        ("post", "/admin/finance/commission", {"rate_bps": "0", "reason": "free money"}),
        ("post", "/admin/finance/settings/escrow", {"mode": "none", "days": "0"}),
        ("post", "/admin/finance/settings/refunds", {"window_days": "365", "max_consumed_percent": "100"}),
        ("post", "/admin/finance/settings/payouts", {"minimum_minor": "1", "approval_threshold_minor": "1"}),
        ("post", f"/admin/finance/courses/{course.id}/commission", {"rate_bps": "0", "reason": "x"}),
        ("post", f"/admin/finance/payouts/{big_payout.id}/approve", {}),
        ("post", f"/admin/finance/payouts/{big_payout.id}/reject", {"reason": "x"}),
        ("post", f"/admin/finance/refunds/{late_refund.id}", {"decision": "approve"}),
        ("post", f"/admin/finance/disputes/{dispute.id}/rule", {"ruling": "full_refund", "decision": "x"}),
        ("post", f"/admin/finance/events/{event.id}/retry", {}),
    ]


def assert_nothing_changed(big_payout, late_refund, dispute, course):
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(CommissionRate.id))) == 0
    assert (
        db.session.get(PlatformSetting, "escrow") is None
        and db.session.get(PlatformSetting, "refunds") is None
    )
    assert db.session.get(PlatformSetting, "payouts").value["approval_threshold_minor"] == 1000
    assert db.session.get(type(course), course.id).commission_bps_override is None
    assert db.session.get(Payout, big_payout.id).status == "awaiting_approval"
    assert db.session.get(Refund, late_refund.id).status == "requested"
    assert db.session.get(Dispute, dispute.id).status == "open"


@pytest.mark.parametrize("who", ["learner", "creator", "moderator", "reviewer", "user_admin"])
def test_every_finance_url_is_forbidden_without_manage_finance(
    app, login, request, who, every_finance_url, big_payout, late_refund, other_dispute, course
):
    user = request.getfixturevalue(who)
    browser = app.test_client()
    login(user, on=browser)
    for method, url, form in every_finance_url:
        resp = getattr(browser, method)(url, data=form)
        assert resp.status_code == 403, (who, method, url, resp.status_code)
        assert b"<html" in resp.data
        resp = getattr(browser, method)(url, data=form, headers=HX)
        assert resp.status_code == 403, (who, method, url, "htmx")
        assert b"<html" not in resp.data and resp.headers["HX-Retarget"] == "#alerts"
    assert_nothing_changed(big_payout, late_refund, other_dispute, course)


def test_every_finance_url_sends_anonymous_users_to_log_in(
    app, every_finance_url, big_payout, late_refund, other_dispute, course
):
    browser = app.test_client()
    for method, url, form in every_finance_url:
        resp = getattr(browser, method)(url, data=form)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login"), (method, url)
    assert_nothing_changed(big_payout, late_refund, other_dispute, course)


def test_a_superuser_may_open_finance(app, login, admin):
    browser = app.test_client()
    login(admin, on=browser)
    for url in ("/admin/finance", "/admin/finance/transactions", "/admin/finance/queues"):
        assert browser.get(url).status_code == 200, url
