"""Money: integer minor units with a currency code (ARCHITECTURE §4). Never floats.

A kernel value type, not a commerce service: catalog parses prices with it, messaging and
the templates format amounts with it, commerce books them. Keeping it under every domain
lets each import it downward (it needs only `app.errors`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.errors import Invalid

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "USD"

    def __str__(self) -> str:
        return format_money(self.minor, self.currency)


def format_money(minor: int, currency: str = "USD") -> str:
    """2999 minor units of USD -> '$29.99'; -500 -> '-$5.00'; a currency without a symbol here
    is written after the amount: '1,234.56 CHF'. Two decimals, like parse_amount. Shown to
    people through app.formatting (the Jinja filter `format_money`)."""
    minor = int(minor)
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = SYMBOLS.get(currency)
    amount = f"{whole:,}.{cents:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


# A plain amount: ASCII digits, optional thousands commas in their places, at most one point.
# No exponent ('1e3'), sign, underscore or non-ASCII digit: Decimal() would accept those.
_AMOUNT = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
MAX_AMOUNT = Decimal(100_000_000)


def parse_amount(text: str | int | None, *, field: str = "price") -> int:
    """'19.99' -> 1999 minor units; an int is already in minor units. Rejects negatives,
    fractions of a cent, absurd sizes and anything that is not a plain decimal number."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text).scaleb(-2)
    else:
        cleaned = (text if isinstance(text, str) else "").strip().lstrip("$€£").strip()
        if not cleaned:
            raise Invalid("Enter an amount, e.g. 19.99 (or 0 for free).", field=field)
        if cleaned.startswith("-") and _AMOUNT.fullmatch(cleaned[1:].lstrip("$€£")):
            raise Invalid("The amount cannot be negative.", field=field)
        if not _AMOUNT.fullmatch(cleaned):
            if re.fullmatch(r"[0-9]+,[0-9]{1,2}", cleaned, re.ASCII):
                raise Invalid("Use a point for cents, e.g. 19.99.", field=field)
            raise Invalid("Enter an amount as a number, e.g. 19.99.", field=field)
        value = Decimal(cleaned.replace(",", ""))
    if value < 0:
        raise Invalid("The amount cannot be negative.", field=field)
    if value > MAX_AMOUNT:  # before quantize(), which cannot represent absurd sizes
        raise Invalid("That amount is too large.", field=field)
    if value != value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise Invalid("Use at most two decimals (whole cents).", field=field)
    return int(value.scaleb(2))
