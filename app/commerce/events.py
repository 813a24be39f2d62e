"""The facts about money that other domains react to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass

from app.events import Event


@dataclass(frozen=True)
class CheckoutStarted(Event, name="commerce.checkout.started"):
    """A buyer opened a new checkout for a course (a pending order was created)."""

    order_id: int


@dataclass(frozen=True)
class LedgerPosted(Event, name="commerce.ledger.posted"):
    """A ledger transaction was written (once per idempotency key; a replay emits nothing)."""

    transaction_id: int
    kind: str  # sale | refund | chargeback | escrow_release | payout_request | …


@dataclass(frozen=True)
class DisputeOpened(Event, name="commerce.dispute.opened"):
    """A buyer (or their bank, as a chargeback) opened a new dispute about a purchase."""

    dispute_id: int


@dataclass(frozen=True)
class DisputeClosed(Event, name="commerce.dispute.closed"):
    """A dispute ended: ruled on by an admin, or a chargeback won or lost."""

    dispute_id: int


@dataclass(frozen=True)
class PayoutSettled(Event, name="commerce.payout.settled"):
    """A payout reached the creator (the provider confirmed it; `settled_at` is set)."""

    payout_id: int
