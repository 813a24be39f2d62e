"""Escrow: a sale's creator share waits in `liability:creator:<id>:escrow` until the learner
completes the course or N days pass (the policy snapshotted on the order); a frozen order
(open dispute) is never released."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.models import Order
from app.dbtypes import utcnow
from app.extensions import db
from app.learning.queries import enrollment_for


def held_minor(order: Order) -> int:
    """What this order still holds in escrow: its creator share less refunds taken from it."""
    return order.creator_share_minor - (order.refunded_minor - order.commission_refunded_minor)


def release(order: Order, *, reason: str, now: datetime | None = None) -> bool:
    if order.status != "paid" or order.escrow_released_at is not None or order.frozen:
        return False
    now = now or utcnow()
    amount = held_minor(order)
    if amount > 0:
        ledger.post(f"escrow-release:{order.id}", "escrow_release", [
            (ledger.creator_account(order.creator_id, "escrow"), amount),
            (ledger.creator_account(order.creator_id, "available"), -amount),
        ], currency=order.currency, order_id=order.id, memo=f"Escrow released ({reason})", now=now)
    order.escrow_released_at = now
    return True


def release_if_due(order: Order, *, now: datetime | None = None) -> bool:
    """Once a freeze is lifted: release at once if the policy's condition came true while the
    sale was frozen (the learner completed the course, or the days ran out)."""
    now = now or utcnow()
    if order.escrow_release_at is not None and order.escrow_release_at <= now:
        return release(order, reason="escrow period ended", now=now)
    if order.escrow_mode == "completion_or_days":
        enrollment = enrollment_for(order.buyer, order.course)
        if enrollment is not None and enrollment.completed_at is not None:
            return release(order, reason="course completed", now=now)
    return False


def release_for_completion(enrollment, *, now: datetime | None = None) -> bool:
    order = db.session.scalar(sa.select(Order).where(
        Order.buyer_id == enrollment.learner_id, Order.course_id == enrollment.course_id,
        Order.status == "paid", Order.escrow_mode == "completion_or_days").order_by(Order.id.desc()).limit(1))
    return order is not None and release(order, reason="course completed", now=now)


def release_due(*, now: datetime | None = None) -> int:
    """The periodic job: release every order whose escrow period has run out."""
    now = now or utcnow()
    due = list(db.session.scalars(sa.select(Order).where(
        Order.status == "paid", Order.escrow_released_at.is_(None), Order.frozen.is_(False),
        Order.escrow_release_at <= now).with_for_update(skip_locked=True)))
    return sum(release(order, reason="escrow period ended", now=now) for order in due)
