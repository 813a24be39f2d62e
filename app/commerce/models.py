from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Course
from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

ACCOUNT_TYPES = ("asset", "liability", "income", "expense")


class LedgerAccount(db.Model):
    """`<type>:<owner>:<purpose>` (ARCHITECTURE §4), e.g. `liability:creator:7:available`."""

    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    type: Mapped[str] = mapped_column(sa.String(10))
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(db.Model):
    """A balanced set of entries, written once: its idempotency key is unique, so replaying
    the same external event writes nothing new."""

    __tablename__ = "ledger_transaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    memo: Mapped[str] = mapped_column(sa.String(255), default="")
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("purchase_order.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction")


class LedgerEntry(db.Model):
    """One signed leg (debit +, credit −) in minor units. Append-only."""

    __tablename__ = "ledger_entry"
    __table_args__ = (sa.CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transaction.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()


class Order(db.Model):
    """A course purchase. Price, commission and escrow terms are snapshotted when it is made."""

    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    creator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    price_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    commission_bps: Mapped[int]
    commission_minor: Mapped[int] = mapped_column(sa.BigInteger)
    creator_share_minor: Mapped[int] = mapped_column(sa.BigInteger)
    escrow_mode: Mapped[str] = mapped_column(sa.String(20))  # completion_or_days | days | none
    escrow_days: Mapped[int] = mapped_column(default=30)
    # pending | paid | failed | expired | refunded
    status: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    gateway: Mapped[str] = mapped_column(sa.String(12))
    # where the buyer came from (a referrer domain, `direct` or a `?ref=` name): analytics
    traffic_source: Mapped[str | None] = mapped_column(sa.String(100))
    checkout_session_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escrow_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    escrow_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen: Mapped[bool] = mapped_column(default=False)  # an open dispute holds the escrow
    refunded_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    commission_refunded_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    creator: Mapped[User] = relationship(foreign_keys=[creator_id])
    course: Mapped[Course] = relationship()

    @property
    def refundable_minor(self) -> int:
        return self.price_minor - self.refunded_minor


class CommissionRate(db.Model):
    """The platform's commission over time: every change is kept (history page) and audited."""

    __tablename__ = "commission_rate"
    __table_args__ = (sa.CheckConstraint("rate_bps BETWEEN 0 AND 10000", name="rate_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rate_bps: Mapped[int]
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    set_by: Mapped[User | None] = relationship()


class PlatformSetting(db.Model):
    """Admin-set money policies (escrow, refunds, payouts); defaults live in commerce/settings.py."""

    __tablename__ = "platform_setting"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class PaymentEvent(db.Model):
    """A provider's webhook event, stored (once) before it is applied by a job."""

    __tablename__ = "payment_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(12))
    event_id: Mapped[str] = mapped_column(sa.String(120))
    type: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    # pending | applied | ignored | parked (waits for an earlier event) | failed
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Refund(db.Model):
    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # requested (admin queue) | approved (sent to the gateway) | succeeded | rejected | failed
    status: Mapped[str] = mapped_column(sa.String(10), default="requested", index=True)
    automatic: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    gateway_refund_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])


class Dispute(db.Model):
    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("purchase_order.id"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(sa.String(10), default="learner")  # learner | chargeback
    reason: Mapped[str] = mapped_column(sa.String(60))
    # open | ruled | won | lost (chargebacks end won or lost)
    status: Mapped[str] = mapped_column(sa.String(10), default="open", index=True)
    ruling: Mapped[str | None] = mapped_column(sa.String(16))  # full_refund | partial_refund | rejected
    refund_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    decision: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    stripe_dispute_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    messages: Mapped[list[DisputeMessage]] = relationship(back_populates="dispute",
                                                          order_by="DisputeMessage.id")


class DisputeMessage(db.Model):
    __tablename__ = "dispute_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(sa.ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(sa.String(10))  # learner | creator | admin | system
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    dispute: Mapped[Dispute] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()


class PayoutAccount(db.Model):
    """Where a creator is paid: a Stripe Connect Express account or a PayPal address."""

    __tablename__ = "payout_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(sa.String(10))  # stripe | paypal
    external_id: Mapped[str] = mapped_column(sa.String(254))  # acct_… or the PayPal e-mail
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")  # pending | active | restricted
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payout(db.Model):
    __tablename__ = "payout"
    __table_args__ = (sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
                      sa.Index("ix_payout_settled_at", "settled_at"))  # payouts sent in a period

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    provider: Mapped[str] = mapped_column(sa.String(10))
    destination: Mapped[str] = mapped_column(sa.String(254))
    # awaiting_approval | queued | processing | paid | failed | rejected
    status: Mapped[str] = mapped_column(sa.String(18), index=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(120))
    failure_reason: Mapped[str] = mapped_column(sa.Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    creator: Mapped[User] = relationship(foreign_keys=[creator_id])
