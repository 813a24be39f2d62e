"""The one way Lyceum shows dates, times, money and percentages to people (issue #15).

Before this module the templates used about ten `strftime` patterns, some with "UTC" and some
without, and formatted percentages three ways. Every template now goes through the Jinja filters
of app/blueprints/filters.py, and any Python code that writes for a person (notification texts,
flash messages, error messages) should call these functions, so one change here changes the
whole site:

    format_date(d)              07 Dec 2026              a day, for a date or a datetime
    format_datetime(dt)         07 Dec 2026 09:05 UTC    always says UTC: Lyceum stores UTC
    format_money(2999, "USD")   $29.99                   -$5.00; 1,234.56 CHF without a symbol
    format_percent(15)          15%                      12.5%, 33.33% (at most two decimals)
    format_percent(1250, bps=True)  12.5%                basis points, as rates are stored
    date_element(d)             <time datetime="2026-12-07">07 Dec 2026</time>
    datetime_element(dt)        <time datetime="2026-12-07T09:05:00Z">07 Dec 2026 09:05 UTC</time>

Machine-readable output (CSV exports, JSON, audit diffs, `datetime=` attributes) keeps ISO 8601
and plain decimals on purpose: a spreadsheet sums 29.99, not "$29.99".

Small stdlib code rather than Babel: the site is English-only and shows UTC only, and amounts
have two decimals in every currency because app.money.parse_amount reads them that way.
Babel earns its place together with what issue #18 asks for (a user's time zone and locale,
a second language, zero-decimal currencies such as JPY, which also need parse_amount to change):
then these functions take a locale and a zone and call Babel, and no template changes.
Month names are spelled here rather than with `%b`, which follows the process's C locale.

`format_money` lives beside the Money value type in app/money.py (Money prints itself with it)
and is re-exported here, so there is one definition.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from app.money import format_money

__all__ = ["as_utc", "date_element", "datetime_element", "format_date", "format_datetime", "format_money", "iso_date",
           "iso_datetime",
           "format_percent"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HUNDREDTH = Decimal("0.01")


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC. A naive datetime is taken to be UTC already (that is how Lyceum stores
    time); an aware one in another zone is converted, so the "UTC" shown is true."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: date | datetime) -> date:
    return as_utc(value).date() if isinstance(value, datetime) else value


def format_date(value: date | datetime | None) -> str:
    """'07 Dec 2026' (the UTC day of a datetime); '' for None."""
    if value is None:
        return ""
    day = _day(value)
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def format_datetime(value: datetime | None) -> str:
    """'07 Dec 2026 09:05 UTC'; '' for None."""
    if value is None:
        return ""
    moment = as_utc(value)
    return f"{format_date(moment)} {moment.hour:02d}:{moment.minute:02d} UTC"


def iso_date(value: date | datetime) -> str:
    """'2026-12-07': the machine-readable day (the UTC day of a datetime)."""
    return _day(value).isoformat()


def iso_datetime(value: datetime) -> str:
    """'2026-12-07T09:05:00Z': the machine-readable moment, to the second, in UTC."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_element(value: date | datetime | None) -> Markup:
    """`<time datetime="2026-12-07">07 Dec 2026</time>`; empty for None."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(iso_date(value), format_date(value))


def datetime_element(value: datetime | None) -> Markup:
    """`<time datetime="2026-12-07T09:05:00Z">07 Dec 2026 09:05 UTC</time>`; empty for None."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(iso_datetime(value), format_datetime(value))


def format_percent(value: int | float | Decimal | None, *, bps: bool = False) -> str:
    """15 -> '15%', 12.5 -> '12.5%', 2/3*100 -> '66.67%' (half up, at most two decimals, no
    trailing zeros). With bps=True the value is in basis points: 1250 -> '12.5%'. '' for None."""
    if value is None:
        return ""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if bps:
        number = number.scaleb(-2)
    text = f"{number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP):f}"
    text = text.rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text) + "%"
