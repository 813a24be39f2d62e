"""Money: integer minor units with a currency code (ARCHITECTURE §4). Never floats."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.errors import Invalid

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "USD"

    def __str__(self) -> str:
        return format_money(self.minor, self.currency)


def format_money(minor: int, currency: str = "USD") -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = SYMBOLS.get(currency)
    amount = f"{whole:,}.{cents:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def parse_amount(text: str | int | None, *, field: str = "price") -> int:
    """'19.99' -> 1999 minor units. Rejects negatives, fractions of a cent and nonsense."""
    if isinstance(text, int):
        value = Decimal(text) / 100
    else:
        cleaned = (text or "").strip().replace(",", "").lstrip("$€£").strip()
        if not cleaned:
            raise Invalid("Enter an amount, e.g. 19.99 (or 0 for free).", field=field)
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise Invalid("Enter an amount as a number, e.g. 19.99.", field=field) from exc
    if not value.is_finite():
        raise Invalid("Enter an amount as a number, e.g. 19.99.", field=field)
    if value < 0:
        raise Invalid("The amount cannot be negative.", field=field)
    if value != value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise Invalid("Use at most two decimals (whole cents).", field=field)
    if value > Decimal("100000000"):
        raise Invalid("That amount is too large.", field=field)
    return int(value * 100)
