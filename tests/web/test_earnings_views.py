"""The studio's earnings screen: balances, sales with commission, CSV export, connecting a
payout account and withdrawing."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from app.commerce import escrow
from app.commerce.disputes import open_dispute, rule_on_dispute
from app.commerce.models import LedgerTransaction, Payout, PayoutAccount
from app.extensions import db
from tests.support.checkout import bought, order_of
from tests.support.pages import HX, text

URL = "/studio/earnings"


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Painting with Light", status="published", price_minor=2999)


@pytest.fixture
def sale(app, login, learner, course):
    """The learner bought the course through the screens (the creator share is in escrow)."""
    buyer = app.test_client()
    login(learner, on=buyer)
    return bought(buyer, learner, course)


@pytest.fixture
def released(sale):
    """The sale's escrow was released: $25.49 is available."""
    assert escrow.release(sale, reason="test")
    db.session.commit()
    return sale


@pytest.fixture
def as_creator(client, login, creator):
    return login(creator)


@pytest.fixture
def paypal(creator):
    account = PayoutAccount(
        user_id=creator.id, provider="paypal", external_id="carl@example.test", status="active"
    )
    db.session.add(account)
    db.session.commit()
    return account


def balance(body: str, label: str) -> str:
    match = re.search(rf'<h2 class="h-small">{label}</h2><p class="price">([^<]+)</p>', body)
    assert match, f"no {label} balance"
    return match.group(1)


def balances(client) -> dict[str, str]:
    body = text(client.get(URL))
    return {label: balance(body, label) for label in ("Available", "In escrow", "On the way", "Paid out")}


def nothing_moved():
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Payout.id))) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == "payout_request")
        )
        == 0
    )


# --- balances and sales -------------------------------------------------------------------


def test_earnings_page_shows_balances_and_the_sale_with_its_commission(client, as_creator, sale):
    resp = client.get(URL)
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert balance(body, "Available") == "$0.00"
    assert balance(body, "In escrow") == "$25.49"
    assert balance(body, "On the way") == "$0.00"
    assert balance(body, "Paid out") == "$0.00"
    row = re.search(
        r"<tr>\s*<td><time datetime=\"\d{4}-\d\d-\d\d\">\d\d \w{3} \d{4}</time></td><td>Painting with Light</td>(.*?)</tr>", body, re.S
    ).group(1)
    assert "<td>$29.99</td>" in row and "$4.50 (15" in row and "<td>$25.49</td>" in row and "in escrow" in row


def test_earnings_fragment(client, as_creator, sale):
    resp = client.get(URL, headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data
    assert balance(text(resp), "In escrow") == "$25.49"


def test_released_sale_is_available(client, as_creator, released):
    assert balances(client) == {
        "Available": "$25.49",
        "In escrow": "$0.00",
        "On the way": "$0.00",
        "Paid out": "$0.00",
    }
    assert re.search(r"<td>available</td>", text(client.get(URL)))


def test_a_new_creator_has_no_sales(client, as_creator):
    body = text(client.get(URL))
    assert "No sales yet." in body and "No payouts yet." in body and balance(body, "Available") == "$0.00"


def test_earnings_are_the_signed_in_creators_own(client, login, sale, make_user):
    login(make_user())
    body = text(client.get(URL))
    assert "No sales yet." in body and balance(body, "In escrow") == "$0.00"


def test_anonymous_is_sent_to_log_in(client):
    for url in (URL, "/studio/earnings.csv"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login?next=")
    for url in (
        "/studio/earnings/withdraw",
        "/studio/earnings/connect/paypal",
        "/studio/earnings/connect/stripe",
    ):
        assert client.post(url, data={"amount": "20", "email": "x@example.test"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(PayoutAccount.id))) == 0


# --- CSV export ---------------------------------------------------------------------------------


def read_csv(resp) -> list[dict]:
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="lyceum-sales.csv"'
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_csv_export_has_each_sale_with_its_numbers(client, as_creator, sale, learner, course):
    [row] = read_csv(client.get("/studio/earnings.csv"))
    assert row["order"] == str(sale.id) and row["course"] == "Painting with Light"
    assert (
        row["price"],
        row["commission_rate_bps"],
        row["commission"],
        row["your_share"],
        row["refunded"],
    ) == ("29.99", "1500", "4.50", "25.49", "0.00")
    assert row["currency"] == "USD" and row["status"] == "paid" and row["escrow_released_at"] == ""
    assert row["state"] == "in escrow"
    assert row["paid_at"].startswith(order_of(learner, course).paid_at.date().isoformat())


def test_csv_export_shows_a_refund(client, as_creator, app, login, learner, course, sale):
    buyer = app.test_client()
    login(learner, on=buyer)
    buyer.post(f"/checkout/orders/{sale.id}/refund", data={"reason": "Not for me"})
    [row] = read_csv(client.get("/studio/earnings.csv"))
    assert row["status"] == "refunded" and row["refunded"] == "29.99" and row["state"] == "refunded"


def sale_cell(client) -> str:
    """The state cell of the one sale in the page's sales table."""
    row = re.search(r"<td>Painting with Light</td>(.*?)</tr>", text(client.get(URL)), re.S).group(1)
    return re.findall(r"<td>([^<]*)</td>", row)[-1]


def test_the_page_and_the_csv_say_the_same_state(client, as_creator, learner, admin, sale):
    """Both read orders.sale_state: in escrow, frozen by a dispute, refunded in part, available."""
    def both():
        [row] = read_csv(client.get("/studio/earnings.csv"))
        return sale_cell(client), row["state"], row["refunded"]

    assert both() == ("in escrow", "in escrow", "0.00")
    dispute = open_dispute(learner, sale, reason="not_as_described", message="Lessons are missing.")
    db.session.commit()
    assert both() == ("frozen (dispute)", "frozen (dispute)", "0.00")
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=1000, decision="Some are thin.")
    db.session.commit()
    assert both() == ("in escrow, $10.00 refunded", "in escrow", "10.00")
    assert escrow.release(sale, reason="test")
    db.session.commit()
    assert both() == ("available, $10.00 refunded", "available", "10.00")


def test_csv_export_of_a_creator_without_sales_is_only_the_header(client, as_creator):
    resp = client.get("/studio/earnings.csv")
    assert read_csv(resp) == []
    assert resp.get_data(as_text=True).splitlines()[0].startswith("order,paid_at,course,price")


# --- payout accounts --------------------------------------------------------------------------


def test_connecting_paypal_with_a_bad_email_is_refused(client, as_creator, creator):
    resp = client.post("/studio/earnings/connect/paypal", data={"email": "not-an-email"})
    assert resp.status_code == 422
    body = text(resp)
    assert "Enter a valid e-mail address" in body and 'aria-invalid="true"' in body
    assert 'value="not-an-email"' in body
    assert db.session.scalar(sa.select(sa.func.count(PayoutAccount.id))) == 0
    fragment = client.post("/studio/earnings/connect/paypal", data={"email": ""}, headers=HX)
    assert fragment.status_code == 422 and b"<html" not in fragment.data
    assert "Enter a valid e-mail address" in text(fragment)


def test_connecting_paypal(client, as_creator, creator):
    resp = client.post(
        "/studio/earnings/connect/paypal", data={"email": "Carl@Example.test"}, follow_redirects=True
    )
    assert resp.status_code == 200 and "PayPal is connected for payouts." in text(resp)
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id))
    assert account.provider == "paypal" and account.status == "active"
    assert "Payouts go to <strong>PayPal</strong>" in text(resp) and 'name="amount"' in text(resp)


def test_connecting_stripe_through_the_local_gateway(client, as_creator, creator):
    resp = client.post("/studio/earnings/connect/stripe")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "http://localhost/studio/earnings"
    db.session.expire_all()
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator.id))
    # The local gateway's account.updated event was applied after the commit.
    assert account.provider == "stripe" and account.external_id.startswith("acct_local_")
    assert account.status == "active"
    body = text(client.get(URL))
    assert "Payouts go to <strong>Stripe</strong>" in body and "status <strong>active</strong>" in body
    assert "Finish the Stripe set-up" not in body


# --- withdrawals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, message",
    [
        ("10.00", "The smallest withdrawal is 20.00."),
        ("1000.00", "You can withdraw at most 25.49."),
        ("25.50", "You can withdraw at most 25.49."),
        ("abc", "Enter an amount as a number, e.g. 19.99."),
        ("-5", "The amount cannot be negative."),
        ("-25.00", "The amount cannot be negative."),
        ("0", "Enter a positive amount."),
        ("20.001", "Use at most two decimals (whole cents)."),
        ("1e3", "Enter an amount as a number, e.g. 19.99."),
        ("", "Enter the amount to withdraw."),
        ("99999999999999999999999", "That amount is too large."),
    ],
)
def test_a_bad_withdrawal_is_refused_and_nothing_moves(client, as_creator, released, paypal, amount, message):
    resp = client.post("/studio/earnings/withdraw", data={"amount": amount})
    assert resp.status_code == 422
    body = text(resp)
    assert message in body and 'aria-invalid="true"' in body
    assert balance(body, "Available") == "$25.49"
    nothing_moved()


def test_a_bad_withdrawal_over_htmx_gets_the_fragment(client, as_creator, released, paypal):
    resp = client.post("/studio/earnings/withdraw", data={"amount": "5"}, headers=HX)
    assert resp.status_code == 422 and b"<html" not in resp.data
    assert "The smallest withdrawal is 20.00." in text(resp)
    nothing_moved()


def test_withdrawing_without_a_payout_account_says_why(client, as_creator, released):
    resp = client.post("/studio/earnings/withdraw", data={"amount": "20.00"})
    assert resp.status_code == 409
    assert "Connect a Stripe or PayPal account" in text(resp)
    nothing_moved()


def test_a_valid_withdrawal_is_paid_and_listed(client, as_creator, released, paypal, creator):
    resp = client.post("/studio/earnings/withdraw", data={"amount": "25.49"}, follow_redirects=True)
    assert resp.status_code == 200
    body = text(resp)
    assert "Your payout is on its way." in body
    payout = db.session.scalar(sa.select(Payout).where(Payout.creator_id == creator.id))
    assert payout.status == "paid" and payout.amount_minor == 2549 and payout.provider == "paypal"
    assert balance(body, "Available") == "$0.00" and balance(body, "On the way") == "$0.00"
    assert balance(body, "Paid out") == "$25.49"
    assert re.search(r"<td>\$25\.49</td>\s*<td>paypal</td><td>paid</td>", body)
    db.session.expire_all()
    assert db.session.get(type(creator), creator.id).balance == 0


def test_a_withdrawal_of_part_of_the_balance(client, as_creator, released, paypal):
    client.post("/studio/earnings/withdraw", data={"amount": "$20"})
    assert balances(client) == {
        "Available": "$5.49",
        "In escrow": "$0.00",
        "On the way": "$0.00",
        "Paid out": "$20.00",
    }
    resp = client.post("/studio/earnings/withdraw", data={"amount": "20"})
    assert resp.status_code == 422 and "You can withdraw at most 5.49." in text(resp)
