"""Buying a course: the checkout (an order with its price, commission and escrow terms
snapshotted), then — when the provider says it is paid — the sale in the ledger and the
enrollment, exactly once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import url_for

from app.accounts.models import User
from app.catalog.models import Course
from app.commerce import ledger
from app.commerce.commission import rate_for_course, split_price
from app.commerce.errors import PaymentNotConfirmed
from app.commerce.events import CheckoutStarted
from app.commerce.gateways import LEDGER_PROVIDER
from app.commerce.models import Order, Refund
from app.commerce.payment_gateway import get_gateway
from app.commerce.refunds import send_refund
from app.commerce.settings import get_setting
from app.dbtypes import after_row, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning.enrollment import enroll
from app.learning.queries import active_enrollment
from app.messaging.notifications import notify
from app.money import format_money
from app.policy import require

log = logging.getLogger(__name__)


def can_buy_course(actor, course) -> bool:
    return (actor is not None and getattr(actor, "is_authenticated", False)
            and not actor.is_suspended() and course.creator_id != actor.id)


def check_buyable(actor: User, course: Course) -> None:
    if getattr(actor, "id", None) == course.creator_id:
        raise Invalid("This is your own course: creators never pay for their courses.")
    require(can_buy_course(actor, course), "buy this course")
    if course.status != "published":
        raise Conflict("This course is not for sale.")
    if course.is_free:
        raise Conflict("This course is free: enroll without paying.")
    if not course.creator.is_active_seller:
        raise Conflict("This course cannot be bought right now.")
    if active_enrollment(actor, course) is not None:
        raise Conflict("You already own this course.")


def start_checkout(actor: User, course: Course, *, now: datetime | None = None,
                   traffic_source: str | None = None) -> tuple[Order, str]:
    """Create (or reuse) a pending order and its checkout session; returns the URL to pay at.

    `traffic_source` (a referrer domain or campaign name, for the creator's analytics) is kept
    on a new order only: a reused one keeps the source it was started with."""
    check_buyable(actor, course)
    now = now or utcnow()
    order = db.session.scalar(sa.select(Order).where(
        Order.buyer_id == actor.id, Order.course_id == course.id, Order.status == "pending",
        Order.price_minor == course.price_minor).order_by(Order.id.desc()).limit(1))
    if order is None:
        split = split_price(course.price_minor, rate_for_course(course, now))
        escrow = get_setting("escrow")
        order = Order(buyer_id=actor.id, course_id=course.id, creator_id=course.creator_id,
                      price_minor=split.price, currency=course.currency, commission_bps=split.rate_bps,
                      commission_minor=split.commission, creator_share_minor=split.creator_share,
                      escrow_mode=escrow["mode"], escrow_days=escrow["days"],
                      gateway=get_gateway().name, created_at=now,
                      traffic_source=(traffic_source or None) and traffic_source[:100])
        db.session.add(order)
        db.session.flush()
        emit(CheckoutStarted(order_id=order.id))
    session = get_gateway().create_checkout(
        order, success_url=url_for("checkout.order_success", order_id=order.id, _external=True),
        cancel_url=url_for("checkout.order_cancel", order_id=order.id, _external=True))
    order.checkout_session_id = session.id
    return order, session.url


def access_order(actor, order_id: int) -> Order:
    """The buyer's own order (someone else's is "not found", revealing nothing)."""
    order = db.session.get(Order, order_id)
    if order is None or getattr(actor, "id", None) != order.buyer_id:
        raise NotFound("No such order.")
    return order


def order_for_event(obj: dict) -> Order | None:
    metadata = obj.get("metadata") or {}
    order = None
    if metadata.get("order_id", "").isdigit():
        order = db.session.get(Order, int(metadata["order_id"]))
    if order is None and obj.get("id"):
        order = db.session.scalar(sa.select(Order).where(Order.checkout_session_id == obj["id"]))
    return order


def order_by_payment_intent(payment_intent: str | None) -> Order | None:
    if not payment_intent:
        return None
    return db.session.scalar(sa.select(Order).where(Order.payment_intent_id == payment_intent))


def confirm_paid_checkout(order: Order, notice: dict) -> dict:
    """The provider's record of the checkout session `notice` (an event's object) names, once it
    confirms this order was paid in full; raises PaymentNotConfirmed otherwise. Even a validly
    signed event is only a notice: a leaked webhook secret must not be enough to enrol."""
    record = get_gateway().confirm_checkout(notice)
    if record is None:
        problems = ["the payment provider has no such checkout session"]
    else:
        problems = _checkout_mismatches(order, record)
    if problems:
        reason = (f"Checkout session {notice.get('id')} does not confirm payment of order {order.id}: "
                  + "; ".join(problems) + ".")
        log.warning("payment not confirmed: %s", reason)
        raise PaymentNotConfirmed(reason)
    return record


def _checkout_mismatches(order: Order, record: dict) -> list[str]:
    expected = {"status": "complete", "payment_status": "paid", "amount_total": order.price_minor,
                "currency": order.currency.lower(), "order_id": str(order.id)}
    found = {"status": record.get("status"), "payment_status": record.get("payment_status"),
             "amount_total": record.get("amount_total"), "currency": str(record.get("currency") or "").lower(),
             "order_id": (record.get("metadata") or {}).get("order_id")}
    return [f"{key} is {found[key]!r}, expected {value!r}" for key, value in expected.items()
            if found[key] != value]


def mark_paid(order: Order, *, payment_intent: str | None, amount_minor: int | None,
              now: datetime | None = None) -> None:
    """The sale: ledger (key `sale:<order>`), enrollment, receipts. Safe to call twice."""
    if order.status == "paid" or order.paid_at is not None:
        return
    if amount_minor is not None and amount_minor != order.price_minor:
        raise ValueError(f"order {order.id}: paid {amount_minor}, expected {order.price_minor}")
    now = now or utcnow()
    order.status, order.paid_at, order.payment_intent_id = "paid", now, payment_intent
    held = order.escrow_mode != "none"
    if held:
        order.escrow_release_at = now + timedelta(days=order.escrow_days)
    ledger.post(f"sale:{order.id}", "sale", [
        (ledger.gateway_account(LEDGER_PROVIDER), order.price_minor),
        (ledger.COMMISSION, -order.commission_minor),
        (ledger.creator_account(order.creator_id, "escrow" if held else "available"),
         -order.creator_share_minor),
    ], currency=order.currency, order_id=order.id, memo=f"Sale of “{order.course.title}”", now=now)
    if not held:
        order.escrow_released_at = now
    if _bought_before(order):
        _refund_duplicate(order)
        return
    enroll(order.buyer, order.course, source="purchase", now=now)
    notify(order.creator, "commerce.sale", order_id=order.id, title=order.course.title,
           amount=order.creator_share_minor, currency=order.currency, held=held)
    notify(order.buyer, "commerce.receipt", order_id=order.id, title=order.course.title,
           amount=order.price_minor, currency=order.currency, course_id=order.course_id)


def _bought_before(order: Order) -> bool:
    """Another paid order for the same learner and course (an old checkout paid late)."""
    return db.session.scalar(sa.select(sa.func.count()).where(
        Order.buyer_id == order.buyer_id, Order.course_id == order.course_id,
        Order.status == "paid", Order.id != order.id)) > 0


def _refund_duplicate(order: Order) -> None:
    """The provider took money for a course the learner already owns: give it all back."""
    refund = Refund(order_id=order.id, amount_minor=order.price_minor, automatic=True,
                    reason="Duplicate purchase: you already own this course.",
                    requested_by_id=order.buyer_id)
    db.session.add(refund)
    db.session.flush()
    send_refund(refund)


def mark_unsuccessful(order: Order, status: str) -> None:
    if order.status == "pending":
        order.status = status  # failed | expired


def purchases_of(user, *, after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[Order]:
    """The user's purchases (paid or refunded), newest first; `after`/`limit` give a page of
    them: those after the (paid_at, id) of the last one seen."""
    return _paid_orders(Order.buyer_id == user.id, after=after, limit=limit)


def sales_of(creator_id: int, *, after: tuple[datetime, int] | None = None,
             limit: int | None = None) -> list[Order]:
    """The creator's sales (paid or refunded), newest first; paged like `purchases_of`."""
    return _paid_orders(Order.creator_id == creator_id, after=after, limit=limit)


def _paid_orders(whose, *, after: tuple[datetime, int] | None, limit: int | None) -> list[Order]:
    query = (sa.select(Order).where(whose, Order.status.in_(("paid", "refunded")))
             .order_by(Order.paid_at.desc(), Order.id.desc()))
    query = query.where(after_row(Order.paid_at, Order.id, after))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


class SaleState(StrEnum):
    """Where a sale's money stands for its creator. The value is the key a program reads; the
    `label` is the words people read (the studio's sales table and its CSV export)."""

    IN_ESCROW = "in_escrow"
    AVAILABLE = "available"
    FROZEN = "frozen"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return SALE_STATE_LABELS[self]


SALE_STATE_LABELS = {SaleState.IN_ESCROW: "in escrow", SaleState.AVAILABLE: "available",
                     SaleState.FROZEN: "frozen (dispute)", SaleState.REFUNDED: "refunded"}


def sale_state(order: Order) -> SaleState:
    """Refunded in full; else held by an open dispute; else released from escrow or not yet."""
    if order.status == "refunded":
        return SaleState.REFUNDED
    if order.frozen:
        return SaleState.FROZEN
    if order.escrow_released_at is not None:
        return SaleState.AVAILABLE
    return SaleState.IN_ESCROW


def sale_state_text(order: Order) -> str:
    """The state's words, and what was refunded of a sale refunded in part:
    'available, $10.00 refunded'."""
    state = sale_state(order)
    if order.refunded_minor and state is not SaleState.REFUNDED:
        return f"{state.label}, {format_money(order.refunded_minor, order.currency)} refunded"
    return state.label
