"""Money figures for the admin finance page and the creator's earnings.

`sales_by_period` sums the daily money rollup (CourseDay, booked from the ledger by
app/analytics/money.py), never the orders or the ledger themselves; `creator_earnings` reads the
creator's balances.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.analytics.models import CourseDay
from app.commerce import ledger
from app.commerce.models import Payout
from app.dbtypes import utcnow
from app.extensions import db

PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}
_SUMMED = ("gross", "commission", "refunds", "refunded_commission", "sales")


@dataclass
class PeriodFigures:
    label: str
    gross: int = 0
    commission: int = 0
    refunds: int = 0
    refunded_commission: int = 0
    sales: int = 0
    currency: str = "USD"  # every amount of a row is in this currency (rows never mix them)

    @property
    def platform_revenue(self) -> int:
        return self.commission - self.refunded_commission

    @property
    def net(self) -> int:
        return self.gross - self.refunds


def _bucket(moment: date | datetime, period: str) -> str:
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        return f"{moment.isocalendar().year}-W{moment.isocalendar().week:02d}"
    if period == "month":
        return moment.strftime("%Y-%m")
    return moment.strftime("%Y")


def sales_by_period(period: str = "month", *, count: int = 12, now: datetime | None = None) -> list[PeriodFigures]:
    """Gross sales, platform revenue, refunds and net per period and currency (newest first,
    then by currency), from the daily rollup: one grouped query over at most count × period days."""
    period = period if period in PERIODS else "month"
    now = now or utcnow()
    since = (now - timedelta(days=PERIODS[period] * count)).date()
    figures: dict[tuple[str, str], PeriodFigures] = defaultdict(lambda: PeriodFigures(""))
    rows = db.session.execute(
        sa.select(CourseDay.day, CourseDay.currency,
                  *[sa.func.coalesce(sa.func.sum(getattr(CourseDay, name)), 0) for name in _SUMMED])
        .where(CourseDay.day >= since)
        .group_by(CourseDay.day, CourseDay.currency))
    for day, currency, *sums in rows:
        if not any(sums):
            continue
        row = figures[(_bucket(day, period), currency)]
        for name, value in zip(_SUMMED, sums, strict=True):
            setattr(row, name, getattr(row, name) + int(value))
    result = []
    # newest first; within a period, currencies A to Z (two stable sorts)
    for label, currency in sorted(sorted(figures, key=lambda key: key[1]), key=lambda key: key[0], reverse=True):
        row = figures[(label, currency)]
        row.label, row.currency = label, currency
        result.append(row)
    return result


def creator_earnings(creator_id: int) -> dict[str, int]:
    balances = ledger.creator_balances(creator_id)
    paid_out = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payout.amount_minor), 0))
                                 .where(Payout.creator_id == creator_id, Payout.status == "paid")) or 0
    return {**balances, "paid_out": int(paid_out)}
