"""Money parsing and formatting (app/money.py): integer minor units, never floats."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import Invalid
from app.money import Money, format_money, parse_amount


@pytest.mark.parametrize("typed, minor", [
    ("19.99", 1999), ("0", 0), ("0.5", 50), (".5", 50), ("7.", 700), ("  3.10 ", 310),
    ("$4", 400), ("€4.20", 420), ("£ 1", 100), ("1,000", 100000), ("1,234,567.89", 123456789),
    ("100000000", 10_000_000_000), (1999, 1999), (0, 0),
])
def test_plain_amounts_parse_to_minor_units(typed, minor):
    assert parse_amount(typed) == minor


@pytest.mark.parametrize("typed, message", [
    ("-0.01", "cannot be negative"), ("-5", "cannot be negative"), ("$-5", "cannot be negative"),
    ("-$5", "cannot be negative"), (-1, "cannot be negative"),
    ("0.001", "two decimals"), ("1.999", "two decimals"),
    ("100000000.01", "too large"), ("9" * 40, "too large"), (10 ** 40, "too large"),
    ("9,99", "point for cents"), ("12,5", "point for cents"),
    ("", "Enter an amount"), (None, "Enter an amount"), ("$", "Enter an amount"),
])
def test_bad_amounts_say_what_is_wrong(typed, message):
    with pytest.raises(Invalid, match=message) as exc:
        parse_amount(typed, field="amount")
    assert exc.value.field == "amount"


@pytest.mark.parametrize("typed", [
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e3", "1E2", "1e30", "1e999999999",
    "abc", "12abc", "0x10", "+5", "5-", "--1", "1.2.3", "1_000", "١٢", "１２", "1 000", "12,34,5",
    ",5", "1,00", "..", ".", 1.5, True,
])
def test_anything_but_a_plain_decimal_number_is_refused(typed):
    with pytest.raises(Invalid):
        parse_amount(typed)


@given(st.integers(min_value=0, max_value=10_000_000_000))
def test_formatting_then_parsing_gives_the_same_cents(minor):
    whole, cents = divmod(minor, 100)
    assert parse_amount(f"{whole}.{cents:02d}") == minor
    assert parse_amount(format_money(minor, "USD")) == minor


@given(st.decimals(min_value=-10, max_value=10_000, allow_nan=False, allow_infinity=False,
                   places=3))
def test_three_decimal_amounts_parse_only_when_they_are_whole_cents(value):
    text = f"{value:f}"
    if value < 0:
        with pytest.raises(Invalid, match="negative"):
            parse_amount(text)
    elif value != value.quantize(Decimal("0.01")):
        with pytest.raises(Invalid, match="two decimals"):
            parse_amount(text)
    else:
        assert parse_amount(text) == int(value * 100)


@pytest.mark.parametrize("minor, currency, shown", [
    (1999, "USD", "$19.99"), (0, "USD", "$0.00"), (-250, "EUR", "-€2.50"),
    (123456789, "GBP", "£1,234,567.89"), (5, "CHF", "0.05 CHF"),
])
def test_format_money(minor, currency, shown):
    assert format_money(minor, currency) == shown
    assert str(Money(minor, currency)) == shown
