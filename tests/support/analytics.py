"""Helpers for the analytics tests (issue 17), named by part.

Money (`money_*`): sales, refunds and chargebacks made through the real commerce services on a
chosen day, and the ledger read back independently of the rollup, to compare the two.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.analytics.models import CourseDay
from app.commerce import ledger
from app.commerce.disputes import close_chargeback, open_chargeback
from app.commerce.models import LedgerAccount, LedgerEntry, LedgerTransaction, Order
from app.commerce.orders import mark_paid
from app.commerce.refunds import settle_refund
from app.extensions import db
from tests.support.commerce import checkout, uid

MONEY_COLUMNS = ("sales", "gross", "commission", "refunds", "refunded_commission", "creator_net", "refund_count")


def money_at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def money_sale(buyer, course, day: date) -> Order:
    """`buyer` pays for `course` on `day` (checkout, then the sale as the provider's
    confirmation books it: orders.mark_paid)."""
    order = checkout(buyer, course, now=money_at(day, 9))
    mark_paid(order, payment_intent=uid("pi"), amount_minor=order.price_minor, now=money_at(day))
    db.session.commit()
    return db.session.get(Order, order.id)


def money_refund(order: Order, amount: int, day: date) -> None:
    """The provider refunded `amount` of `order` on `day` (refunds.settle_refund, as a
    `charge.refunded` for a refund made in the provider's dashboard books it)."""
    settle_refund(order, gateway_refund_id=uid("re"), amount_minor=amount, now=money_at(day, 15))
    db.session.commit()


def money_chargeback_lost(order: Order, opened: date, lost: date) -> None:
    """The buyer's bank opens a chargeback on `opened` and decides for the buyer on `lost`."""
    dispute = open_chargeback(order, stripe_dispute_id=uid("dp"), reason="fraudulent", now=money_at(opened))
    db.session.commit()
    close_chargeback(dispute, won=False, now=money_at(lost, 18))
    db.session.commit()


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def money_ledger_movement(account_like: str, start: date, end: date, currency: str,
                          kinds: tuple[str, ...] | None = None) -> int:
    """The credit-positive movement (what was owed or earned) of the accounts named LIKE
    `account_like` from the ledger transactions of start..end (of `kinds`, or any), read
    from the ledger alone."""
    query = (sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
             .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
             .where(LedgerAccount.name.like(account_like), LedgerEntry.currency == currency,
                    LedgerTransaction.created_at >= _moment(start),
                    LedgerTransaction.created_at < _moment(end + timedelta(days=1))))
    if kinds is not None:
        query = query.where(LedgerTransaction.kind.in_(kinds))
    return -int(db.session.scalar(query))


def money_creator_movement(creator_id: int, start: date, end: date, currency: str) -> int:
    """What the ledger credited to the creator's accounts from sales, refunds and chargebacks."""
    return money_ledger_movement(ledger.creator_account(creator_id, "%"), start, end, currency,
                                 kinds=("sale", "refund", "chargeback"))


def money_commission_movement(start: date, end: date, currency: str) -> int:
    """The movement of the platform's commission account (every kind of transaction)."""
    return money_ledger_movement(ledger.COMMISSION, start, end, currency)


def money_rows() -> dict[tuple[int, date], dict]:
    """Every CourseDay row's money columns (with its creator and currency), by (course, day)."""
    db.session.expire_all()
    return {(row.course_id, row.day): {"creator_id": row.creator_id, "currency": row.currency,
                                       **{name: getattr(row, name) for name in MONEY_COLUMNS}}
            for row in db.session.scalars(sa.select(CourseDay))}
