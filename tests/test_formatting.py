"""The one way dates, times, money and percentages are shown (app/formatting.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from markupsafe import Markup

from app.formatting import (
    date_element,
    datetime_element,
    format_date,
    format_datetime,
    format_money,
    format_percent,
    iso_date,
    iso_datetime,
)

MOMENT = datetime(2026, 12, 7, 9, 5, 42, 123456, tzinfo=UTC)


@pytest.mark.parametrize("value, shown", [
    (MOMENT, "07 Dec 2026"),
    (date(2025, 3, 1), "01 Mar 2025"),
    (datetime(2025, 1, 31, 23, 59), "31 Jan 2025"),  # naive: already UTC
    (None, ""),
])
def test_format_date_is_day_month_year(value, shown):
    assert format_date(value) == shown


def test_format_datetime_states_utc_to_the_minute():
    assert format_datetime(MOMENT) == "07 Dec 2026 09:05 UTC"
    assert format_datetime(datetime(2025, 3, 1, 9, 0)) == "01 Mar 2025 09:00 UTC"
    assert format_datetime(None) == ""


def test_a_moment_in_another_zone_is_shown_in_utc():
    evening_in_new_york = datetime(2026, 12, 6, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert format_datetime(evening_in_new_york) == "07 Dec 2026 03:30 UTC"
    assert format_date(evening_in_new_york) == "07 Dec 2026"
    assert iso_date(evening_in_new_york) == "2026-12-07"


def test_month_names_do_not_follow_the_process_locale():
    assert [format_date(date(2026, month, 1))[3:6] for month in range(1, 13)] == [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_machine_readable_forms_are_iso_8601_in_utc():
    assert iso_date(MOMENT) == "2026-12-07" and iso_date(date(2025, 3, 1)) == "2025-03-01"
    assert iso_datetime(MOMENT) == "2026-12-07T09:05:42Z"
    assert iso_datetime(datetime(2025, 3, 1, 9, 0)) == "2025-03-01T09:00:00Z"


def test_time_elements_carry_the_iso_value_and_the_human_text():
    assert date_element(MOMENT) == '<time datetime="2026-12-07">07 Dec 2026</time>'
    assert datetime_element(MOMENT) == '<time datetime="2026-12-07T09:05:42Z">07 Dec 2026 09:05 UTC</time>'
    assert isinstance(date_element(MOMENT), Markup) and isinstance(datetime_element(MOMENT), Markup)
    assert date_element(None) == "" and datetime_element(None) == ""


@pytest.mark.parametrize("minor, currency, shown", [
    (2999, "USD", "$29.99"),
    (0, "USD", "$0.00"),
    (5, "USD", "$0.05"),
    (-500, "USD", "-$5.00"),
    (123456789, "USD", "$1,234,567.89"),
    (1999, "EUR", "€19.99"),
    (1999, "GBP", "£19.99"),
    (123456, "CHF", "1,234.56 CHF"),
    (-123456, "CHF", "-1,234.56 CHF"),
])
def test_format_money(minor, currency, shown):
    assert format_money(minor, currency) == shown


def test_format_money_defaults_to_dollars():
    assert format_money(1999) == "$19.99"


@pytest.mark.parametrize("value, shown", [
    (15, "15%"), (0, "0%"), (100, "100%"), (12.5, "12.5%"), (Decimal("33.333"), "33.33%"),
    (Decimal("66.665"), "66.67%"),  # half up, not to even
    (200 / 3, "66.67%"), (12.50, "12.5%"), (-5, "-5%"), (Decimal("-0.001"), "0%"), (None, ""),
])
def test_format_percent_of_a_number_of_percent(value, shown):
    assert format_percent(value) == shown


@pytest.mark.parametrize("bps, shown", [
    (1500, "15%"), (1250, "12.5%"), (1234, "12.34%"), (1, "0.01%"), (0, "0%"), (10000, "100%"), (1005, "10.05%"),
])
def test_format_percent_of_basis_points(bps, shown):
    assert format_percent(bps, bps=True) == shown
