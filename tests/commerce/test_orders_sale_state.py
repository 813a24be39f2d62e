"""A sale's state for its creator (app/commerce/orders.py: sale_state, sale_state_text): the one
rule the studio's sales table and its CSV export both show, followed through the real money
services (escrow release, disputes, refunds)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.commerce import escrow
from app.commerce.disputes import open_dispute, rule_on_dispute
from app.commerce.orders import SaleState, sale_state, sale_state_text, sales_of
from app.commerce.refunds import request_refund
from app.extensions import db
from tests.support.commerce import buy, paid_course


@pytest.fixture
def order(learner, creator):
    return buy(learner, paid_course(creator))


@pytest.fixture
def dispute(order, learner):
    dispute = open_dispute(learner, order, reason="not_as_described", message="Half the lessons are missing.")
    db.session.commit()
    return dispute


def test_a_new_sale_is_in_escrow(order):
    assert sale_state(order) is SaleState.IN_ESCROW
    assert sale_state_text(order) == "in escrow"


def test_a_released_sale_is_available(order):
    assert escrow.release(order, reason="test")
    assert sale_state(order) is SaleState.AVAILABLE
    assert sale_state_text(order) == "available"


def test_an_open_dispute_freezes_the_sale(dispute, order):
    assert sale_state(order) is SaleState.FROZEN
    assert sale_state_text(order) == "frozen (dispute)"


def test_a_rejected_dispute_gives_the_sale_back_its_state(dispute, order, admin):
    rule_on_dispute(admin, dispute, ruling="rejected", decision="The course is complete.")
    assert sale_state(order) is SaleState.IN_ESCROW


def test_a_refunded_sale_is_refunded_without_the_amount(order, learner):
    request_refund(learner, order, reason="Not for me")
    db.session.commit()
    assert sale_state(order) is SaleState.REFUNDED
    assert sale_state_text(order) == "refunded"


def test_a_partial_refund_adds_what_was_refunded(dispute, order, admin):
    rule_on_dispute(admin, dispute, ruling="partial_refund", refund_minor=1000, decision="Some lessons are thin.")
    db.session.commit()
    assert sale_state(order) is SaleState.IN_ESCROW
    assert sale_state_text(order) == "in escrow, $10.00 refunded"
    assert escrow.release_due(now=order.paid_at + timedelta(days=30)) == 1
    assert sale_state_text(order) == "available, $10.00 refunded"


def test_a_refund_wins_over_a_release(order, learner):
    assert escrow.release(order, reason="test")
    request_refund(learner, order, reason="Not for me")
    db.session.commit()
    assert order.escrow_released_at is not None and sale_state(order) is SaleState.REFUNDED


def test_each_state_has_its_key_and_its_words():
    assert {state.value: state.label for state in SaleState} == {
        "in_escrow": "in escrow", "available": "available",
        "frozen": "frozen (dispute)", "refunded": "refunded",
    }


def test_the_creators_sales_are_the_paid_and_refunded_ones(order, creator, make_user):
    assert [sale.id for sale in sales_of(creator.id)] == [order.id]
    assert sales_of(make_user().id) == []
