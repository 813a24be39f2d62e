"""What the pages and the API read of refunds (app/commerce/refunds.py): whether a refund can
be asked for now and why not (the refund form's rule, the same one `request_refund` keeps),
a buyer's own refund, and the latest refund of each order."""
from __future__ import annotations

import pytest

from app.commerce.disputes import open_dispute
from app.commerce.refunds import access_refund, refund_blocker, refunds_by_order, request_refund
from app.errors import Conflict, NotFound
from app.extensions import db
from tests.support.commerce import buy, checkout, paid_course


@pytest.fixture
def order(learner, creator):
    return buy(learner, paid_course(creator))


def test_a_paid_order_can_be_refunded(order):
    assert refund_blocker(order) is None


def test_a_pending_order_cannot(learner, creator):
    pending = checkout(learner, paid_course(creator))
    assert "not paid" in refund_blocker(pending)


def test_a_refund_on_its_way_blocks_another_and_request_refund_says_the_same(learner, order):
    order.paid_at = order.paid_at.replace(year=order.paid_at.year - 1)  # too late: an admin decides
    request_refund(learner, order, reason="Late")
    db.session.commit()
    assert refund_blocker(order) == "A refund for this purchase is already on its way."
    with pytest.raises(Conflict, match="already on its way"):
        request_refund(learner, order, reason="Again")


def test_an_open_dispute_blocks_a_refund(learner, order):
    open_dispute(learner, order, reason="quality", message="Blurry.")
    db.session.commit()
    assert "open dispute" in refund_blocker(order)


def test_a_refund_is_its_buyers_only(learner, creator, make_user, order):
    refund = request_refund(learner, order, reason="No")
    db.session.commit()
    assert access_refund(learner, refund.id) == refund
    for someone in (creator, make_user(), None):
        with pytest.raises(NotFound):
            access_refund(someone, refund.id)
    with pytest.raises(NotFound):
        access_refund(learner, 999999)


def test_refunds_by_order_gives_the_latest_of_each(learner, creator, order):
    other = buy(learner, paid_course(creator))
    refund = request_refund(learner, order, reason="No")
    db.session.commit()
    assert refunds_by_order([order.id, other.id]) == {order.id: refund}
    assert refunds_by_order([]) == {}
