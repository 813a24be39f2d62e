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
