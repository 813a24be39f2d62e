"""Disputes: a learner contests a purchase (or the bank does: a Stripe chargeback). The
sale's escrow is frozen while it is open; the creator responds; an admin rules — full
refund, partial refund, or reject — in writing. The three parties see one timeline."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.commerce import escrow
from app.commerce.events import DisputeClosed, DisputeOpened
from app.commerce.models import Dispute, DisputeMessage, Order, Refund
from app.commerce.refunds import book_reversal, send_refund
from app.commerce.settings import can_manage_finance
from app.dbtypes import after_row, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.policy import require

REASONS = {"not_as_described": "The course is not as described",
           "quality": "The quality is unacceptable",
           "access": "I cannot access the course",
           "duplicate": "I was charged twice",
           "other": "Something else"}
RULINGS = ("full_refund", "partial_refund", "rejected")


def _clean(text: str, field: str = "message") -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid("Write a message.", field=field)
    if len(text) > 5000:
        raise Invalid("Keep it under 5,000 characters.", field=field)
    return text


def role_in(actor, dispute: Dispute) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if actor.id == dispute.order.buyer_id:
        return "learner"
    if actor.id == dispute.order.creator_id:
        return "creator"
    if can_manage_finance(actor):
        return "admin"
    return None


def access_dispute(actor, dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or role_in(actor, dispute) is None:
        raise NotFound("No such dispute.")
    return dispute


def disputes_by_order(order_ids: list[int]) -> dict[int, Dispute]:
    """The latest dispute of each order that has one, by order id."""
    if not order_ids:
        return {}
    return {dispute.order_id: dispute for dispute in db.session.scalars(
        sa.select(Dispute).where(Dispute.order_id.in_(order_ids)).order_by(Dispute.id))}


def disputes_of(user, *, before_id: int | None = None, limit: int | None = None) -> list[Dispute]:
    """Disputes on the user's purchases and on their sales, newest first; `before_id`/`limit`
    give a page of them."""
    query = (sa.select(Dispute).join(Order, Order.id == Dispute.order_id)
             .where(sa.or_(Order.buyer_id == user.id, Order.creator_id == user.id))
             .order_by(Dispute.id.desc()))
    if before_id is not None:
        query = query.where(Dispute.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def open_dispute(actor, order: Order, *, reason: str, message: str,
                 now: datetime | None = None) -> Dispute:
    if getattr(actor, "id", None) != order.buyer_id:
        raise NotFound("No such order.")
    if order.status != "paid":
        raise Conflict("Only a paid purchase can be disputed.")
    if reason not in REASONS:
        raise Invalid("Choose a reason from the list.", field="reason")
    if db.session.scalar(sa.select(Dispute.id).where(Dispute.order_id == order.id, Dispute.status == "open")):
        raise Conflict("This purchase already has an open dispute.")
    if db.session.scalar(sa.select(Refund.id).where(Refund.order_id == order.id,
                                                    Refund.status.in_(("requested", "approved")))):
        # Two ways to the same money: a full-refund ruling would refund the sale twice.
        raise Conflict("A refund for this purchase is already on its way.")
    now = now or utcnow()
    dispute = Dispute(order_id=order.id, opened_by_id=actor.id, reason=reason, created_at=now)
    dispute.messages.append(DisputeMessage(author_id=actor.id, role="learner", body=_clean(message),
                                           created_at=now))
    db.session.add(dispute)
    order.frozen = True
    db.session.flush()
    emit(DisputeOpened(dispute_id=dispute.id))
    notify(order.creator, "commerce.dispute_opened", dispute_id=dispute.id, title=order.course.title)
    return dispute


def post_message(actor, dispute: Dispute, *, body: str, now: datetime | None = None) -> DisputeMessage:
    role = role_in(actor, dispute)
    if role is None:
        raise NotFound("No such dispute.")
    if dispute.status != "open":
        raise Conflict("This dispute is closed.")
    message = DisputeMessage(author_id=actor.id, role=role, body=_clean(body), created_at=now or utcnow())
    dispute.messages.append(message)
    order = dispute.order
    others = {"learner": [order.creator], "creator": [order.buyer], "admin": [order.buyer, order.creator]}
    for person in others[role]:
        notify(person, "commerce.dispute_message", dispute_id=dispute.id, title=order.course.title)
    return message


def rule_on_dispute(actor, dispute: Dispute, *, ruling: str, decision: str, refund_minor: int | None = None,
                    now: datetime | None = None, ip: str | None = None) -> Dispute:
    require(can_manage_finance(actor) and actor.id not in (dispute.order.creator_id,
                                                            dispute.order.buyer_id),
            "rule on this dispute (you are a party to it)")
    if dispute.status != "open" or dispute.source != "learner":
        raise Conflict("Only an open dispute raised by a learner can be ruled on here.")
    if ruling not in RULINGS:
        raise Invalid("Choose full refund, partial refund or reject.", field="ruling")
    order = dispute.order
    amount = 0
    if ruling == "full_refund":
        amount = order.refundable_minor
    elif ruling == "partial_refund":
        if refund_minor is None or not 0 < refund_minor < order.refundable_minor:
            raise Invalid(f"A partial refund is more than 0 and less than "
                          f"{order.refundable_minor / 100:.2f}.", field="refund_minor")
        amount = refund_minor
    now = now or utcnow()
    dispute.status, dispute.ruling, dispute.refund_minor = "ruled", ruling, amount
    dispute.decision, dispute.decided_by_id, dispute.closed_at = _clean(decision, "decision"), actor.id, now
    dispute.messages.append(DisputeMessage(author_id=actor.id, role="admin", body=dispute.decision,
                                           created_at=now))
    order.frozen = False
    if ruling != "full_refund":  # what completion or time made due during the freeze is due now
        escrow.release_if_due(order, now=now)
    record_audit(actor, "dispute.ruled", dispute, after={"ruling": ruling, "refund_minor": amount},
                 reason=dispute.decision, ip=ip)
    if amount:
        refund = Refund(order_id=order.id, amount_minor=amount, reason=f"Dispute #{dispute.id} ruling",
                        requested_by_id=order.buyer_id, decided_by_id=actor.id, created_at=now)
        db.session.add(refund)
        db.session.flush()
        send_refund(refund)
    for person in (order.buyer, order.creator):
        notify(person, "commerce.dispute_ruled", dispute_id=dispute.id, title=order.course.title,
               ruling=ruling)
    emit(DisputeClosed(dispute_id=dispute.id))
    return dispute


def by_stripe_id(stripe_dispute_id: str) -> Dispute | None:
    return db.session.scalar(sa.select(Dispute).where(Dispute.stripe_dispute_id == stripe_dispute_id))


def open_chargeback(order: Order, *, stripe_dispute_id: str, reason: str,
                    now: datetime | None = None) -> Dispute:
    """A bank chargeback: link it to the learner's open dispute, or open one. Idempotent."""
    existing = by_stripe_id(stripe_dispute_id)
    if existing is not None:
        return existing
    now = now or utcnow()
    dispute = db.session.scalar(sa.select(Dispute).where(Dispute.order_id == order.id,
                                                         Dispute.status == "open"))
    is_new = dispute is None
    if is_new:
        dispute = Dispute(order_id=order.id, opened_by_id=None, source="chargeback",
                          reason=reason[:60], created_at=now)
        db.session.add(dispute)
    dispute.source, dispute.stripe_dispute_id = "chargeback", stripe_dispute_id
    dispute.messages.append(DisputeMessage(role="system", created_at=now,
                                           body="The buyer's bank opened a chargeback."))
    order.frozen = True
    db.session.flush()
    if is_new:  # a chargeback on a learner's open dispute is the same dispute
        emit(DisputeOpened(dispute_id=dispute.id))
    notify(order.creator, "commerce.dispute_opened", dispute_id=dispute.id, title=order.course.title)
    return dispute


def close_chargeback(dispute: Dispute, *, won: bool, now: datetime | None = None) -> Dispute:
    if dispute.status in ("won", "lost"):
        return dispute
    now = now or utcnow()
    order = dispute.order
    if not won and order.refundable_minor > 0:
        book_reversal(order, order.refundable_minor, key=f"chargeback:{dispute.id}", kind="chargeback",
                      memo=f"Chargeback lost on “{order.course.title}”", now=now)
    dispute.status, dispute.closed_at = ("won" if won else "lost"), now
    dispute.messages.append(DisputeMessage(role="system", created_at=now,
                                           body="The bank decided for the seller." if won
                                           else "The bank decided for the buyer; the sale is reversed."))
    order.frozen = False
    if won:
        escrow.release_if_due(order, now=now)
    for person in (order.buyer, order.creator):
        notify(person, "commerce.dispute_ruled", dispute_id=dispute.id, title=order.course.title,
               ruling="won" if won else "lost")
    emit(DisputeClosed(dispute_id=dispute.id))
    return dispute


def dispute_queue(*, after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[Dispute]:
    """Open disputes, the oldest first; `after` (a dispute's `(created_at, id)`) and `limit`
    give the queue a page at a time."""
    stmt = (sa.select(Dispute).where(Dispute.status == "open")
            .order_by(Dispute.created_at, Dispute.id).limit(limit))
    stmt = stmt.where(after_row(Dispute.created_at, Dispute.id, after, newest_first=False))
    return list(db.session.scalars(stmt))
