"""Refunds: requested by the learner from "My purchases"; inside the refund window and under
the consumption limit they are approved at once, otherwise an admin decides. The gateway
refunds; the ledger reversal is booked when the provider confirms (`settle_refund`, from
`charge.refunded`), once, whoever started it."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.commerce import ledger
from app.commerce.gateways import LEDGER_PROVIDER
from app.commerce.models import Dispute, Order, Refund
from app.commerce.payment_gateway import get_gateway
from app.commerce.settings import can_manage_finance, get_setting
from app.dbtypes import row_id, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.learning.deliveries import taken_percent, what_counts
from app.learning.enrollment import revoke
from app.learning.queries import enrollment_for
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.policy import require


def consumed_percent(order: Order) -> int:
    """How much of the course the buyer has taken: lessons opened, files downloaded, videos
    watched or lessons completed (learning/deliveries.py), not only completion."""
    enrollment = enrollment_for(order.buyer, order.course)
    return taken_percent(enrollment) if enrollment is not None else 0


def refund_rule(policy: dict | None = None) -> str:
    """The automatic-refund rule in plain words: the checkout page and the refund form show
    this text, and `refund_eligibility` applies the same settings, so they never drift."""
    policy = policy or get_setting("refunds")
    return (f"You get your money back at once if you ask within {policy['window_days']} days of "
            f"buying and have taken no more than {policy['max_consumed_percent']}% of the "
            f"course's lessons. Taking a lesson means you {what_counts()}. "
            "Otherwise our team looks at your request and tells you the decision.")


def refund_eligibility(order: Order, *, now: datetime | None = None) -> tuple[bool, str]:
    """(automatic, why) for a refund request on `order` under the current policy."""
    policy = get_setting("refunds")
    now = now or utcnow()
    if order.paid_at is None or now > order.paid_at + timedelta(days=policy["window_days"]):
        return False, f"more than {policy['window_days']} days after the purchase"
    consumed = consumed_percent(order)
    if consumed > policy["max_consumed_percent"]:
        return False, (f"{consumed}% of the course's lessons were opened, downloaded, watched or "
                       f"completed (the limit is {policy['max_consumed_percent']}%)")
    return True, "inside the refund window and the consumption limit"


def _open_refund(order: Order) -> Refund | None:
    return db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id,
                                                     Refund.status.in_(("requested", "approved"))))


def refund_blocker(order: Order) -> str | None:
    """Why a refund cannot be asked for on `order` now, or None when it can: "My purchases"
    offers the refund form only then, and `request_refund` refuses with this reason."""
    if order.status != "paid" or order.refundable_minor <= 0:
        return "This purchase cannot be refunded (it is not paid, or already refunded)."
    if _open_refund(order) is not None:
        return "A refund for this purchase is already on its way."
    if db.session.scalar(sa.select(Dispute.id).where(Dispute.order_id == order.id,
                                                     Dispute.status == "open")):
        return "This purchase has an open dispute; the admin's ruling decides the refund."
    return None


def request_refund(actor, order: Order, *, reason: str, now: datetime | None = None) -> Refund:
    if getattr(actor, "id", None) != order.buyer_id:
        raise NotFound("No such order.")
    blocker = refund_blocker(order)
    if blocker is not None:
        raise Conflict(blocker)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Tell us why you want a refund.", field="reason")
    now = now or utcnow()
    automatic, why = refund_eligibility(order, now=now)
    refund = Refund(order_id=order.id, amount_minor=order.refundable_minor, reason=reason[:2000],
                    requested_by_id=actor.id, automatic=automatic, created_at=now,
                    decision_note=why)
    db.session.add(refund)
    db.session.flush()
    if automatic:
        send_refund(refund)
    else:
        notify(order.buyer, "commerce.refund_requested", order_id=order.id, title=order.course.title,
               why=why)
    return refund


def access_refund(actor, refund_id: int) -> Refund:
    """A refund on the actor's own purchase (anyone else's is "not found", revealing nothing)."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or getattr(actor, "id", None) != refund.order.buyer_id:
        raise NotFound("No such refund.")
    return refund


def refunds_by_order(order_ids: list[int]) -> dict[int, Refund]:
    """The latest refund of each order that has one, by order id."""
    if not order_ids:
        return {}
    return {refund.order_id: refund for refund in db.session.scalars(
        sa.select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id))}


def decide_refund(actor, refund: Refund, *, approve: bool, note: str = "",
                  ip: str | None = None) -> Refund:
    require(can_manage_finance(actor), "decide refunds")
    if refund.status != "requested":
        raise Conflict("This refund request was already decided.")
    if approve and refund.order.refundable_minor <= 0:  # e.g. a chargeback took it back meanwhile
        raise Conflict("This purchase has already been refunded in full: reject the request.")
    if approve:
        refund.amount_minor = min(refund.amount_minor, refund.order.refundable_minor)
    refund.decided_by_id, refund.decision_note = actor.id, (note or "").strip() or refund.decision_note
    record_audit(actor, "refund.approved" if approve else "refund.rejected", refund,
                 before={"status": "requested"}, after={"approve": approve}, reason=note, ip=ip)
    if approve:
        send_refund(refund)
    else:
        refund.status = "rejected"
        notify(refund.order.buyer, "commerce.refund_rejected", order_id=refund.order_id,
               title=refund.order.course.title, note=refund.decision_note)
    return refund


def send_refund(refund: Refund) -> None:
    """Ask the gateway to pay the money back (idempotent at the provider by refund id)."""
    refund.status = "approved"
    order = refund.order
    refund.gateway_refund_id = get_gateway().refund(order, amount_minor=refund.amount_minor,
                                                    refund_id=refund.id)


def reversal_split(order: Order, amount: int) -> tuple[int, int]:
    """(creator part, commission part) of refunding `amount` of `order`, commission taken back
    in proportion (round half up) and never more than was kept — nor so little that the
    creator would give back more than is left of their share. So refunds in parts add up
    exactly: the one that completes the refund returns all that is left of both."""
    kept = order.commission_minor - order.commission_refunded_minor
    share_left = order.creator_share_minor - (order.refunded_minor - order.commission_refunded_minor)
    commission = (amount * order.commission_minor * 2 + order.price_minor) // (2 * order.price_minor)
    commission = max(min(commission, kept), amount - share_left)
    return amount - commission, commission


def book_reversal(order: Order, amount: int, *, key: str, kind: str, memo: str, now: datetime) -> None:
    """Take `amount` back: from escrow while held, else from available (which may go
    negative and is recovered from later sales)."""
    creator_part, commission_part = reversal_split(order, amount)
    source = "escrow" if order.escrow_released_at is None else "available"
    ledger.post(key, kind, [
        (ledger.creator_account(order.creator_id, source), creator_part),
        (ledger.COMMISSION, commission_part),
        (ledger.gateway_account(LEDGER_PROVIDER), -amount),
    ], currency=order.currency, order_id=order.id, memo=memo, now=now)
    order.refunded_minor += amount
    order.commission_refunded_minor += commission_part
    if order.refunded_minor >= order.price_minor:
        order.status = "refunded"
        enrollment = enrollment_for(order.buyer, order.course)
        still_paid = db.session.scalar(sa.select(sa.func.count()).where(
            Order.buyer_id == order.buyer_id, Order.course_id == order.course_id,
            Order.status == "paid", Order.id != order.id))
        if enrollment is not None and not still_paid:
            revoke(enrollment, reason=memo, payment_status="refunded", now=now)


def settle_refund(order: Order, *, gateway_refund_id: str, amount_minor: int,
                  refund_id: str | int | None = None, now: datetime | None = None) -> Refund:
    """The provider confirmed a refund: book it once (also refunds made in Stripe's dashboard)."""
    now = now or utcnow()
    refund = db.session.scalar(sa.select(Refund).where(Refund.gateway_refund_id == gateway_refund_id))
    if refund is None and row_id(refund_id) is not None:
        refund = db.session.get(Refund, row_id(refund_id))
    if refund is None:
        refund = Refund(order_id=order.id, amount_minor=amount_minor, reason="Refunded at the provider",
                        status="approved", gateway_refund_id=gateway_refund_id, created_at=now)
        db.session.add(refund)
        db.session.flush()
    if refund.status == "succeeded":
        return refund
    amount = min(amount_minor, order.refundable_minor)
    if amount > 0:
        book_reversal(order, amount, key=f"refund:{refund.id}", kind="refund",
                      memo=f"Refund of “{order.course.title}”", now=now)
    refund.status, refund.settled_at = "succeeded", now
    refund.gateway_refund_id = refund.gateway_refund_id or gateway_refund_id
    notify(order.buyer, "commerce.refunded", order_id=order.id, title=order.course.title,
           amount=amount, currency=order.currency)
    notify(order.creator, "commerce.refund_creator", order_id=order.id, title=order.course.title,
           amount=amount, currency=order.currency)
    return refund


def settle_refunded_total(order: Order, *, amount_refunded: int, charge_id: str,
                          now: datetime | None = None) -> None:
    """The provider's running total of what it refunded on the order's charge (a
    `charge.refunded` that does not list its refunds): book what is not booked yet — against
    our own refunds on their way, oldest first, the rest as refunds made at the provider.
    Replays and late, older totals find nothing missing."""
    missing = min(amount_refunded, order.price_minor) - order.refunded_minor
    on_their_way = list(db.session.scalars(sa.select(Refund).where(
        Refund.order_id == order.id, Refund.status == "approved").order_by(Refund.id)))
    for refund in on_their_way:
        if not 0 < refund.amount_minor <= missing:
            break
        settle_refund(order, gateway_refund_id=refund.gateway_refund_id or f"{charge_id}:refund-{refund.id}",
                      amount_minor=refund.amount_minor, refund_id=refund.id, now=now)
        missing -= refund.amount_minor
    if missing > 0:
        settle_refund(order, gateway_refund_id=f"{charge_id}:total-{order.refunded_minor + missing}",
                      amount_minor=missing, now=now)


def refund_queue() -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.status == "requested")
                                   .order_by(Refund.created_at)))


