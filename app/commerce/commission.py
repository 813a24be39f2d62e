"""Commission maths (ARCHITECTURE §4): integer minor units, round half up, never floats."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.commerce.settings import commission_rate_at


@dataclass(frozen=True)
class Split:
    price: int
    rate_bps: int
    commission: int
    creator_share: int

    @property
    def rate_percent(self) -> str:
        whole, rest = divmod(self.rate_bps, 100)
        return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def split_price(price_minor: int, rate_bps: int) -> Split:
    """commission = round-half-up(price × rate / 10000); creator share = price − commission."""
    if price_minor < 0 or not 0 <= rate_bps <= 10000:
        raise ValueError("price must be >= 0 and the rate within 0..10000 basis points")
    commission = (price_minor * rate_bps + 5000) // 10000
    return Split(price_minor, rate_bps, commission, price_minor - commission)


def global_rate_bps(now: datetime | None = None) -> int:
    """The platform's rate in force at `now` (admin-set history, else the configured default)."""
    return commission_rate_at(now)


def rate_for_course(course, now: datetime | None = None) -> int:
    if course.commission_bps_override is not None:
        return course.commission_bps_override
    return global_rate_bps(now)


def split_for_course(course, price_minor: int | None = None) -> Split:
    return split_price(course.price_minor if price_minor is None else price_minor,
                       rate_for_course(course))
