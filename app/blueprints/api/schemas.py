"""Response models several resources share: people, money, times."""
from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from app.money import Money


class Amount(BaseModel):
    """Money: integer minor units (cents) and an ISO 4217 currency."""

    amount_minor: int = Field(description="In the currency's minor unit: 1999 is 19.99")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217, e.g. USD")

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Amount:
        return cls(amount_minor=int(amount_minor), currency=currency)

    @classmethod
    def from_money(cls, money: Money) -> Amount:
        return cls(amount_minor=money.minor, currency=money.currency)


class Person(BaseModel):
    """Another user, as the pages show them: a name and a public profile."""

    id: int
    display_name: str
    headline: str = ""


Time = AwareDatetime  # ISO 8601 with its offset, always UTC ("…Z")
