"""Buying through the screens: the course page's buy box, the checkout page, the local test
gateway's pay page, success/cancel, my purchases, refund requests and disputes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commerce.models import Dispute, LedgerTransaction, Order, PaymentEvent, Refund
from app.dbtypes import utcnow
from app.extensions import db
from app.learning.queries import active_enrollment
from tests.support.checkout import bought, buy_through_screens, order_of, start_checkout
from tests.support.pages import HX, text

# --- helpers (also used by the other money screen tests) --------------------------------


def ledger_rows(order) -> list[LedgerTransaction]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(LedgerTransaction)
            .where(LedgerTransaction.order_id == order.id)
            .order_by(LedgerTransaction.id)
        )
    )


def legs(transaction) -> dict[str, int]:
    return {entry.account.name: entry.amount for entry in transaction.entries}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Painting with Light", status="published", price_minor=2999)


@pytest.fixture
def as_learner(client, login, learner):
    return login(learner)


@pytest.fixture
def someone(make_user):
    return make_user(email="someone@example.test", display_name="Sam Someone")


# --- the buy box on the course page -------------------------------------------------------


def test_course_page_offers_a_signed_in_learner_to_buy_for_the_price(client, as_learner, course):
    resp = client.get(f"/courses/{course.slug}")
    assert resp.status_code == 200
    body = text(resp)
    assert "Buy for $29.99" in body
    assert f'href="/checkout/courses/{course.id}"' in body
    assert "Log in to buy" not in body


def test_course_page_asks_a_visitor_to_log_in_to_buy(client, course):
    resp = client.get(f"/courses/{course.slug}")
    assert resp.status_code == 200
    body = text(resp)
    assert "Log in to buy" in body and f"/auth/login?next=/courses/{course.slug}" in body
    assert "Buy for" not in body


def test_course_page_of_an_owned_course_says_continue_instead_of_buy(client, as_learner, learner, course):
    bought(client, learner, course)
    body = text(client.get(f"/courses/{course.slug}"))
    assert "Continue learning" in body and "Buy for" not in body


# --- the checkout page ----------------------------------------------------------------------


def test_checkout_page_shows_price_creator_share_and_commission(client, as_learner, course):
    resp = client.get(f"/checkout/courses/{course.id}")
    assert resp.status_code == 200
    assert b"<html" in resp.data
    body = text(resp)
    # 15% of 29.99 is 4.4985: rounded half up to 4.50, the creator gets the rest.
    assert re.search(r"You pay</th><td[^>]*>\$29\.99<", body)
    assert re.search(r"The creator receives</th><td>\$25\.49<", body)
    assert re.search(r"Lyceum's commission \(15%\)</th><td>\$4\.50<", body)
    assert "Carl Creator" in body and "Painting with Light" in body
    assert f'action="/checkout/courses/{course.id}"' in body


def test_checkout_page_as_htmx_fragment(client, as_learner, course):
    resp = client.get(f"/checkout/courses/{course.id}", headers=HX)
    assert resp.status_code == 200
    assert b"<html" not in resp.data
    assert "$25.49" in text(resp) and "Pay $29.99" in text(resp)


def test_checkout_page_uses_the_course_commission_override(client, as_learner, course):
    course.commission_bps_override = 1250
    db.session.commit()
    body = text(client.get(f"/checkout/courses/{course.id}"))
    # 12.5% of 29.99 = 3.74875 -> 3.75
    assert "Lyceum's commission (12.5%)" in body and "$3.75" in body and "$26.24" in body


def test_post_starts_a_pending_order_and_redirects_to_the_test_payment_page(
    client, as_learner, learner, course
):
    pay_url = start_checkout(client, course)
    order = order_of(learner, course)
    assert order.status == "pending" and order.gateway == "local"
    assert (order.price_minor, order.commission_bps, order.commission_minor, order.creator_share_minor) == (
        2999,
        1500,
        450,
        2549,
    )
    assert pay_url == f"/checkout/local/{order.checkout_session_id}"
    resp = client.get(pay_url)
    assert resp.status_code == 200
    body = text(resp)
    assert "test payment page" in body and "Pay $29.99" in body and "Painting with Light" in body
    assert 'value="pay"' in body and 'value="decline"' in body


def test_pay_page_as_htmx_fragment(client, as_learner, course):
    resp = client.get(start_checkout(client, course), headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data and b"Pay $29.99" in resp.data


def test_starting_checkout_again_reuses_the_pending_order(client, as_learner, learner, course):
    first = start_checkout(client, course)
    second = start_checkout(client, course)
    assert first == second
    assert db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.buyer_id == learner.id)) == 1


def test_pay_redirects_to_the_success_page_which_shows_the_enrollment(client, as_learner, learner, course):
    resp = buy_through_screens(client, course)
    order = order_of(learner, course)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/checkout/orders/{order.id}/success"
    # The local gateway's signed event was stored, and applied once the request committed.
    event = db.session.scalar(
        sa.select(PaymentEvent).where(PaymentEvent.type == "checkout.session.completed")
    )
    assert event.status == "applied" and event.payload["data"]["object"]["id"] == order.checkout_session_id
    assert order.status == "paid" and order.paid_at is not None
    assert active_enrollment(learner, course) is not None
    [sale] = ledger_rows(order)
    assert sale.kind == "sale" and legs(sale) == {
        "asset:gateway:stripe": 2999,
        "income:platform:commission": -450,
        f"liability:creator:{course.creator_id}:escrow": -2549,
    }

    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and b"<html" in page.data
    body = text(page)
    assert "“Painting with Light” is yours" in body
    assert f'href="/learn/courses/{course.id}' in body or f"/learn/{course.id}" in body
    assert 'hx-trigger="every' not in body  # nothing left to wait for (no polling)


def test_pressing_pay_twice_sells_once(client, as_learner, learner, course):
    pay_url = start_checkout(client, course)
    client.post(pay_url, data={"action": "pay"})
    again = client.post(pay_url, data={"action": "pay"})
    order = order_of(learner, course)
    assert again.status_code == 302 and again.headers["Location"] == f"/checkout/orders/{order.id}/success"
    assert len(ledger_rows(order)) == 1
    assert db.session.scalar(sa.select(sa.func.count(PaymentEvent.id))) == 1


def test_decline_goes_to_the_cancel_page_and_sells_nothing(client, as_learner, learner, course):
    resp = buy_through_screens(client, course, action="decline")
    order = order_of(learner, course)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/checkout/orders/{order.id}/cancel"
    assert order.status == "expired" and order.paid_at is None
    assert active_enrollment(learner, course) is None
    assert ledger_rows(order) == []
    assert db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id))) == 0
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200
    assert "No payment made" in text(page) and "not charged for “Painting with Light”" in text(page)
    fragment = client.get(resp.headers["Location"], headers=HX)
    assert (
        fragment.status_code == 200 and b"<html" not in fragment.data and b"No payment made" in fragment.data
    )


def test_after_a_decline_the_learner_can_check_out_again(client, as_learner, learner, course):
    buy_through_screens(client, course, action="decline")
    declined = order_of(learner, course)
    bought(client, learner, course)
    assert order_of(learner, course).id != declined.id


def test_success_fragment_stops_polling_with_286_once_paid(client, as_learner, learner, course):
    buy_through_screens(client, course)
    order = order_of(learner, course)
    resp = client.get(f"/checkout/orders/{order.id}/success", headers=HX)
    assert resp.status_code == 286
    assert b"<html" not in resp.data
    assert "is yours" in text(resp) and "Start learning" in text(resp)


def test_success_page_keeps_polling_while_the_event_has_not_arrived(client, as_learner, learner, course):
    start_checkout(client, course)  # an order whose payment event has not arrived
    order = order_of(learner, course)
    page = client.get(f"/checkout/orders/{order.id}/success")
    assert page.status_code == 200
    body = text(page)
    assert "waiting for the payment provider" in body
    poller = re.search(r'<div id="order_status"[^>]*>', body).group(0)
    assert f'hx-get="/checkout/orders/{order.id}/success"' in poller and 'hx-trigger="every 2s"' in poller
    # The poll answers with the block's inside only, so it must replace the inside: an
    # outerHTML swap (or an hx-select of the wrapper) would drop the poller on first answer.
    assert 'hx-swap="innerHTML"' in poller and "hx-select" not in poller
    assert f'href="/checkout/orders/{order.id}/success"' in body  # the no-JS refresh

    resp = client.get(f"/checkout/orders/{order.id}/success", headers=HX)
    assert resp.status_code == 200  # keep polling
    assert b"<html" not in resp.data and b'id="order_status"' not in resp.data
    assert "waiting for the payment provider" in text(resp)


def test_success_fragment_stops_polling_after_a_decline(client, as_learner, learner, course):
    buy_through_screens(client, course, action="decline")
    order = order_of(learner, course)
    resp = client.get(f"/checkout/orders/{order.id}/success", headers=HX)
    assert resp.status_code == 286
    assert "did not go through" in text(resp)


def test_success_page_of_a_refunded_order_says_refunded(client, as_learner, learner, course):
    order = bought(client, learner, course)
    client.post(f"/checkout/orders/{order.id}/refund", data={"reason": "Wrong course"})
    assert order_of(learner, course).status == "refunded"
    body = text(client.get(f"/checkout/orders/{order.id}/success"))
    assert "“Painting with Light” was refunded ($29.99)" in body
    assert "You were not charged" not in body and "is yours" not in body


def test_someone_elses_order_pages_are_not_found(client, login, learner, someone, course, other_client):
    login(learner)
    pay_url = start_checkout(client, course)
    order = order_of(learner, course)
    login(someone, on=other_client)
    for url in (f"/checkout/orders/{order.id}/success", f"/checkout/orders/{order.id}/cancel", pay_url):
        assert other_client.get(url).status_code == 404, url
        assert other_client.get(url, headers=HX).status_code == 404, url
    assert other_client.post(pay_url, data={"action": "pay"}).status_code == 404
    assert other_client.post(pay_url, data={"action": "decline"}).status_code == 404
    assert order_of(learner, course).status == "pending"
    assert db.session.scalar(sa.select(sa.func.count(PaymentEvent.id))) == 0


def test_unknown_orders_and_sessions_are_not_found(client, as_learner):
    assert client.get("/checkout/orders/999999/success").status_code == 404
    assert client.get("/checkout/orders/999999/cancel").status_code == 404
    assert client.get("/checkout/local/cs_local_nope").status_code == 404
    assert client.post("/checkout/local/cs_local_nope", data={"action": "pay"}).status_code == 404
    assert client.get("/checkout/courses/999999").status_code == 404
    assert client.post("/checkout/courses/999999").status_code == 404


# --- what cannot be bought ------------------------------------------------------------------


def assert_refused(client, course, status: int, message: str):
    for resp in (client.get(f"/checkout/courses/{course.id}"), client.post(f"/checkout/courses/{course.id}")):
        assert resp.status_code == status
        assert b"<html" in resp.data and message in text(resp)
    resp = client.post(f"/checkout/courses/{course.id}", headers=HX)
    assert resp.status_code == status and b"<html" not in resp.data and message in text(resp)
    assert resp.headers["HX-Retarget"] == "#alerts"


def test_a_free_course_cannot_be_bought(client, as_learner, learner, make_course, creator):
    free = make_course(creator, status="published", price_minor=0)
    assert_refused(client, free, 409, "This course is free: enroll without paying.")
    assert order_of(learner, free) is None


@pytest.mark.parametrize("status", ["draft", "in_review", "unpublished"])
def test_an_unpublished_course_cannot_be_bought(client, as_learner, learner, make_course, creator, status):
    hidden = make_course(creator, status=status, price_minor=2999)
    assert_refused(client, hidden, 409, "This course is not for sale.")
    assert order_of(learner, hidden) is None


def test_a_creator_cannot_buy_their_own_course(client, login, creator, course):
    login(creator)
    assert_refused(client, course, 422, "This is your own course")
    assert order_of(creator, course) is None


def test_buying_twice_is_refused(client, as_learner, learner, course):
    order = bought(client, learner, course)
    assert_refused(client, course, 409, "You already own this course.")
    assert order_of(learner, course).id == order.id


def test_a_suspended_creators_course_cannot_be_bought(client, as_learner, learner, course, creator):
    creator.suspended_at = utcnow()
    db.session.commit()
    assert_refused(client, course, 409, "This course cannot be bought right now.")


def test_anonymous_checkout_is_sent_to_log_in(client, course):
    for url in (f"/checkout/courses/{course.id}", "/checkout/purchases"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login?next=")
    resp = client.post(f"/checkout/courses/{course.id}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_checkout_is_rate_limited(client, as_learner, learner, course, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_CHECKOUT", "2 per minute")
    for _ in range(2):
        start_checkout(client, course)
    resp = client.post(f"/checkout/courses/{course.id}")
    assert resp.status_code == 429
    assert "You are doing that too often" in text(resp)
    assert client.get(f"/checkout/courses/{course.id}").status_code == 200  # viewing is not limited


# --- my purchases: receipts, refunds --------------------------------------------------------


def test_purchases_list_the_receipts(client, as_learner, learner, course, make_course, creator):
    order = bought(client, learner, course)
    make_course(creator, title="Unbought", status="published", price_minor=1000)
    resp = client.get("/checkout/purchases")
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert f"Receipt #{order.id}" in body and "paid $29.99" in body and "Painting with Light" in body
    assert "Unbought" not in body
    assert f'action="/checkout/orders/{order.id}/refund"' in body
    assert f'action="/checkout/orders/{order.id}/dispute"' in body
    assert "Approved at once" in body
    fragment = client.get("/checkout/purchases", headers=HX)
    assert (
        fragment.status_code == 200
        and b"<html" not in fragment.data
        and f"Receipt #{order.id}" in text(fragment)
    )


def test_purchases_leave_out_unpaid_orders(client, as_learner, learner, course):
    buy_through_screens(client, course, action="decline")
    body = text(client.get("/checkout/purchases"))
    assert "No purchases yet." in body and "Receipt #" not in body


def test_refund_inside_the_window_is_automatic(client, as_learner, learner, course):
    order = bought(client, learner, course)
    resp = client.post(
        f"/checkout/orders/{order.id}/refund", data={"reason": "Not for me"}, follow_redirects=True
    )
    assert resp.status_code == 200
    assert "Your refund is on its way." in text(resp)
    order = order_of(learner, course)
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    # The local gateway's charge.refunded event was applied after the commit.
    assert refund.status == "succeeded" and refund.automatic
    assert (
        db.session.scalar(sa.select(PaymentEvent.status).where(PaymentEvent.type == "charge.refunded"))
        == "applied"
    )
    assert order.status == "refunded" and order.refunded_minor == 2999
    assert active_enrollment(learner, course) is None
    sale, reversal = ledger_rows(order)
    assert reversal.kind == "refund" and legs(reversal) == {
        f"liability:creator:{course.creator_id}:escrow": 2549,
        "income:platform:commission": 450,
        "asset:gateway:stripe": -2999,
    }
    body = text(resp)
    assert "refunded $29.99" in body and "Refund: <strong>succeeded</strong>" in body
    assert f'action="/checkout/orders/{order.id}/refund"' not in body


def test_refund_outside_the_window_goes_to_the_admin_queue(
    client, as_learner, learner, course, make_user, other_client, login
):
    order = bought(client, learner, course)
    order.paid_at = utcnow() - timedelta(days=45)
    db.session.commit()
    assert "An admin decides: more than 30 days after the purchase" in text(client.get("/checkout/purchases"))
    resp = client.post(
        f"/checkout/orders/{order.id}/refund", data={"reason": "Too late?"}, follow_redirects=True
    )
    assert "Your refund request is with our team" in text(resp)
    refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
    assert refund.status == "requested" and not refund.automatic
    assert order_of(learner, course).status == "paid" and len(ledger_rows(order)) == 1
    assert "Refund: <strong>requested</strong>" in text(resp)
    # a refund on its way: no second refund form, no dispute form (refunds.refund_blocker)
    assert f'action="/checkout/orders/{order.id}/refund"' not in text(resp)
    assert f'action="/checkout/orders/{order.id}/dispute"' not in text(resp)
    finance = make_user(email="fin@example.test", permissions=("manage_finance",))
    login(finance, on=other_client)
    queue = text(other_client.get("/admin/finance/queues"))
    assert f"(order #{order.id})" in queue and "Too late?" in queue


def test_refund_needs_a_reason(client, as_learner, learner, course):
    order = bought(client, learner, course)
    resp = client.post(f"/checkout/orders/{order.id}/refund", data={"reason": "  "}, follow_redirects=True)
    assert resp.status_code == 200 and "Tell us why you want a refund." in text(resp)
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0
    assert order_of(learner, course).status == "paid"


def test_refund_twice_is_a_conflict(client, as_learner, learner, course):
    order = bought(client, learner, course)
    order.paid_at = utcnow() - timedelta(days=45)
    db.session.commit()
    client.post(f"/checkout/orders/{order.id}/refund", data={"reason": "one"})
    resp = client.post(f"/checkout/orders/{order.id}/refund", data={"reason": "two"})
    assert resp.status_code == 409 and "already on its way" in text(resp)
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1


def test_refund_of_someone_elses_purchase_is_not_found(client, login, learner, someone, course, other_client):
    login(learner)
    order = bought(client, learner, course)
    login(someone, on=other_client)
    for headers in ({}, HX):
        resp = other_client.post(
            f"/checkout/orders/{order.id}/refund", data={"reason": "mine now"}, headers=headers
        )
        assert resp.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0
    assert order_of(learner, course).status == "paid"
    assert (
        other_client.post(
            f"/checkout/orders/{order.id}/dispute", data={"reason": "quality", "message": "x"}
        ).status_code
        == 404
    )


# --- disputes -------------------------------------------------------------------------------


@pytest.fixture
def finance_admin(make_user):
    return make_user(
        email="finance@example.test", display_name="Fiona Finance", permissions=("manage_finance",)
    )


def open_dispute(client, order, message: str = "The videos are missing."):
    resp = client.post(
        f"/checkout/orders/{order.id}/dispute", data={"reason": "not_as_described", "message": message}
    )
    assert resp.status_code == 302
    dispute = db.session.scalar(sa.select(Dispute).where(Dispute.order_id == order.id))
    assert resp.headers["Location"] == f"/checkout/disputes/{dispute.id}"
    return dispute


def test_dispute_timeline_is_shown_to_learner_creator_and_finance_admin(
    app, client, login, learner, creator, course, finance_admin, someone, moderator
):
    login(learner)
    order = bought(client, learner, course)
    dispute = open_dispute(client, order)
    assert order_of(learner, course).frozen
    url = f"/checkout/disputes/{dispute.id}"
    for user in (learner, creator, finance_admin):
        viewer = app.test_client()
        login(user, on=viewer)
        resp = viewer.get(url)
        assert resp.status_code == 200, user.email
        body = text(resp)
        assert "The videos are missing." in body and "Lena Learner" in body
        assert "The course is not as described" in body
        assert ("<h2>Rule</h2>" in body) == (user is finance_admin)
        fragment = viewer.get(url, headers=HX)
        assert fragment.status_code == 200 and b"<html" not in fragment.data
        assert "The videos are missing." in text(fragment)
    for user in (someone, moderator):
        outsider = app.test_client()
        login(user, on=outsider)
        assert outsider.get(url).status_code == 404, user.email
        assert outsider.get(url, headers=HX).status_code == 404, user.email
        assert outsider.post(f"{url}/messages", data={"body": "hi"}).status_code == 404, user.email
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/auth/login")


def test_an_open_dispute_hides_the_refund_button(client, as_learner, learner, course):
    order = bought(client, learner, course)
    dispute = open_dispute(client, order)
    body = text(client.get("/checkout/purchases"))
    assert f'href="/checkout/disputes/{dispute.id}"' in body
    assert f'action="/checkout/orders/{order.id}/refund"' not in body


def test_posting_to_the_dispute_timeline(client, login, learner, creator, course, other_client):
    login(learner)
    order = bought(client, learner, course)
    dispute = open_dispute(client, order)
    login(creator, on=other_client)
    resp = other_client.post(
        f"/checkout/disputes/{dispute.id}/messages", data={"body": "They are in section 2."}
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/checkout/disputes/{dispute.id}#timeline"
    body = text(client.get(f"/checkout/disputes/{dispute.id}"))
    assert "They are in section 2." in body and "Creator (Carl Creator)" in body


def test_an_empty_dispute_message_is_refused_with_the_error(client, as_learner, learner, course):
    order = bought(client, learner, course)
    dispute = open_dispute(client, order)
    resp = client.post(f"/checkout/disputes/{dispute.id}/messages", data={"body": "   "})
    assert resp.status_code == 422
    body = text(resp)
    assert b"<html" in resp.data and "Write a message." in body and 'aria-invalid="true"' in body
    fragment = client.post(f"/checkout/disputes/{dispute.id}/messages", data={"body": ""}, headers=HX)
    assert (
        fragment.status_code == 422 and b"<html" not in fragment.data and "Write a message." in text(fragment)
    )
    db.session.expire_all()
    assert len(db.session.get(Dispute, dispute.id).messages) == 1


def test_opening_a_dispute_needs_a_known_reason_and_a_message(client, as_learner, learner, course):
    order = bought(client, learner, course)
    resp = client.post(
        f"/checkout/orders/{order.id}/dispute",
        data={"reason": "bogus", "message": "x"},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Choose a reason from the list." in text(resp)
    resp = client.post(
        f"/checkout/orders/{order.id}/dispute",
        data={"reason": "quality", "message": " "},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Write a message." in text(resp)
    assert db.session.scalar(sa.select(sa.func.count(Dispute.id))) == 0
    assert not order_of(learner, course).frozen


def test_an_older_checkout_cannot_sell_the_course_a_second_time(client, as_learner, learner, course):
    older = start_checkout(client, course)
    course.price_minor = 3999  # a price change: the next checkout is a new order
    db.session.commit()
    newer = start_checkout(client, course)
    assert newer != older
    client.post(newer, data={"action": "pay"})
    resp = client.post(older, data={"action": "pay"})
    assert resp.status_code == 409 and "You already own this course." in text(resp)
    db.session.expire_all()
    assert [o.status for o in db.session.scalars(sa.select(Order).order_by(Order.id))] == ["pending", "paid"]
    assert text(client.get("/checkout/purchases")).count("Receipt #") == 1
    assert client.post(older, data={"action": "decline"}).status_code == 302  # it can still be let go
