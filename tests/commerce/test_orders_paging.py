"""Purchases and sales a page at a time (app/commerce/orders.py): newest paid first, ties in
order of id, only paid and refunded orders."""
from __future__ import annotations

from app.commerce.orders import purchases_of, sales_of
from app.extensions import db
from tests.support.commerce import buy, checkout, paid_course


def test_purchases_and_sales_are_paged_by_paid_time_then_id(learner, creator, make_user):
    first, second, third = (buy(learner, paid_course(creator)) for _ in range(3))
    second.paid_at = first.paid_at
    third.paid_at = first.paid_at.replace(year=first.paid_at.year + 1)
    checkout(learner, paid_course(creator))  # pending: neither a purchase nor a sale
    db.session.commit()
    assert purchases_of(learner) == [third, second, first] == sales_of(creator.id)
    assert purchases_of(learner, limit=2) == [third, second]
    assert purchases_of(learner, after=(second.paid_at, second.id)) == [first]
    assert sales_of(creator.id, after=(third.paid_at, third.id), limit=1) == [second]
    assert purchases_of(make_user()) == [] and sales_of(learner.id) == []
