"""Money figures for the admin and creator dashboards, read from orders and the ledger."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.models import LedgerAccount, LedgerEntry, LedgerTransaction, Order, Payout
from app.dbtypes import utcnow
from app.extensions import db

PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass
class PeriodFigures:
    label: str
    gross: int = 0
    commission: int = 0
    refunds: int = 0
    refunded_commission: int = 0
    sales: int = 0

    @property
    def platform_revenue(self) -> int:
        return self.commission - self.refunded_commission

    @property
    def net(self) -> int:
        return self.gross - self.refunds


def _bucket(moment: datetime, period: str) -> str:
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "week":
        return f"{moment.isocalendar().year}-W{moment.isocalendar().week:02d}"
    if period == "month":
        return moment.strftime("%Y-%m")
    return moment.strftime("%Y")


def sales_by_period(period: str = "month", *, count: int = 12, now: datetime | None = None) -> list[PeriodFigures]:
    """Gross sales, platform revenue, refunds and net per period (newest first)."""
    period = period if period in PERIODS else "month"
    now = now or utcnow()
    since = now - timedelta(days=PERIODS[period] * count)
    figures: dict[str, PeriodFigures] = defaultdict(lambda: PeriodFigures(""))
    for paid_at, price, commission in db.session.execute(
            sa.select(Order.paid_at, Order.price_minor, Order.commission_minor)
            .where(Order.paid_at.is_not(None), Order.paid_at >= since)):
        row = figures[_bucket(paid_at, period)]
        row.gross += price
        row.commission += commission
        row.sales += 1
    for created_at, name, amount in db.session.execute(
            sa.select(LedgerTransaction.created_at, LedgerAccount.name, LedgerEntry.amount)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerTransaction.kind.in_(("refund", "chargeback")),
                   LedgerTransaction.created_at >= since,
                   LedgerAccount.name.in_((ledger.COMMISSION, ledger.gateway_account("stripe"))))):
        row = figures[_bucket(created_at, period)]
        if name == ledger.COMMISSION:
            row.refunded_commission += amount
        else:
            row.refunds += -amount
    result = []
    for label in sorted(figures, reverse=True):
        figures[label].label = label
        result.append(figures[label])
    return result


def creator_earnings(creator_id: int) -> dict[str, int]:
    balances = ledger.creator_balances(creator_id)
    paid_out = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Payout.amount_minor), 0))
                                 .where(Payout.creator_id == creator_id, Payout.status == "paid")) or 0
    return {**balances, "paid_out": int(paid_out)}
