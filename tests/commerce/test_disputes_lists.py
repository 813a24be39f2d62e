"""Disputes as lists (app/commerce/disputes.py): those on a user's purchases and sales, newest
first a page at a time, and the latest dispute of each order."""
from __future__ import annotations

from app.commerce.disputes import disputes_by_order, disputes_of, open_dispute
from app.extensions import db
from tests.support.commerce import buy, paid_course


def test_disputes_of_are_the_buyers_and_the_creators(learner, creator, make_user):
    first = open_dispute(learner, buy(learner, paid_course(creator)), reason="quality", message="Blurry.")
    second = open_dispute(learner, buy(learner, paid_course(creator)), reason="other", message="Hm.")
    db.session.commit()
    assert disputes_of(learner) == [second, first] == disputes_of(creator)
    assert disputes_of(make_user()) == []
    assert disputes_of(learner, limit=1) == [second]
    assert disputes_of(learner, before_id=second.id) == [first]


def test_disputes_by_order(learner, creator):
    order = buy(learner, paid_course(creator))
    plain = buy(learner, paid_course(creator))
    dispute = open_dispute(learner, order, reason="quality", message="Blurry.")
    db.session.commit()
    assert disputes_by_order([order.id, plain.id]) == {order.id: dispute}
    assert disputes_by_order([]) == {}
