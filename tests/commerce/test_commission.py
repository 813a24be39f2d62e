"""Commission maths (app/commerce/commission.py, ARCHITECTURE §4)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.commerce.commission import rate_for_course, split_for_course, split_price

MAX_PRICE = 99999


def reference_commission(price: int, rate_bps: int) -> int:
    return int((Decimal(price) * rate_bps / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(price=st.integers(min_value=0, max_value=MAX_PRICE),
       rate=st.integers(min_value=0, max_value=10000))
def test_commission_is_rounded_half_up_and_the_parts_add_up(price, rate):
    split = split_price(price, rate)
    assert split.commission == reference_commission(price, rate)
    assert split.commission + split.creator_share == price
    assert 0 <= split.commission <= price
    assert (split.price, split.rate_bps) == (price, rate)


@given(price=st.integers(min_value=0, max_value=10 ** 15),
       rate=st.integers(min_value=0, max_value=10000))
def test_the_parts_add_up_for_any_size_of_price(price, rate):
    split = split_price(price, rate)
    assert split.commission + split.creator_share == price
    assert split.commission == reference_commission(price, rate)


@pytest.mark.parametrize("price, rate, commission", [
    (1999, 1500, 300),   # 299.85 -> 300
    (10, 1500, 2),       # 1.5 exactly: half rounds up
    (30, 1500, 5),       # 4.5 -> 5
    (1, 4999, 0),        # 0.4999 -> 0
    (1, 5000, 1),        # 0.5 -> 1
    (0, 1500, 0),
    (1999, 0, 0),
    (1999, 10000, 1999),
])
def test_known_splits(price, rate, commission):
    split = split_price(price, rate)
    assert (split.commission, split.creator_share) == (commission, price - commission)


@pytest.mark.parametrize("price, rate", [(-1, 1500), (100, -1), (100, 10001)])
def test_negative_prices_and_rates_outside_0_to_10000_are_refused(price, rate):
    with pytest.raises(ValueError):
        split_price(price, rate)


@pytest.mark.parametrize("rate, shown", [(1500, "15%"), (1550, "15.5%"), (1505, "15.05%"),
                                         (0, "0%"), (10000, "100%"), (1, "0.01%")])
def test_rate_is_shown_as_a_percentage(rate, shown):
    assert split_price(1000, rate).rate_percent == shown


def test_a_course_uses_the_platform_rate_unless_it_has_an_override(app, db, make_course):
    course = make_course(price_minor=2000)
    assert rate_for_course(course) == app.config["DEFAULT_COMMISSION_BPS"] == 1500
    assert split_for_course(course).creator_share == 1700
    course.commission_bps_override = 1000
    assert split_for_course(course).creator_share == 1800
    assert split_for_course(course, 5000).commission == 500  # the price being typed
    course.commission_bps_override = 0
    assert split_for_course(course).commission == 0
