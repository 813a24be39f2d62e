"""A payment provider's events applied to our orders, payouts, refunds and disputes, once.

`webhooks.py` verifies and stores each event; the apply job calls `apply_event`, which runs
the handler for its type (`HANDLERS`). Every handler is idempotent (ledger keys, order
states) and raises EventNotReady when what it needs has not arrived yet: the event is then
parked and retried. `reconcile_stripe` stores events the provider sent that never arrived.
This module sits on top of commerce: it drives the services and nothing in commerce imports it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.commerce import disputes, refunds
from app.commerce.errors import EventNotReady
from app.commerce.models import PaymentEvent, PayoutAccount
from app.commerce.orders import (
    confirm_paid_checkout,
    mark_paid,
    mark_unsuccessful,
    order_by_payment_intent,
    order_for_event,
)
from app.commerce.payment_gateway import get_gateway
from app.commerce.payouts import fail_payout, payout_for_item, reverse_paid_payout, settle_payout
from app.commerce.webhooks import store_event
from app.dbtypes import utcnow
from app.errors import DomainError
from app.extensions import db


def checkout_completed(obj: dict, *, now: datetime) -> None:
    order = order_for_event(obj)
    if order is None:
        raise EventNotReady(f"no order for checkout session {obj.get('id')}")
    if obj.get("payment_status") == "paid":
        _fulfil(order, obj, now=now)
    elif order.payment_intent_id is None:  # delayed payment methods: wait for the outcome
        order.payment_intent_id = obj.get("payment_intent")


def async_payment_succeeded(obj: dict, *, now: datetime) -> None:
    order = order_for_event(obj)
    if order is None:
        raise EventNotReady(f"no order for checkout session {obj.get('id')}")
    _fulfil(order, obj, now=now)


def _fulfil(order, obj: dict, *, now: datetime) -> None:
    """Sell once the provider itself confirms the payment (the event alone is not enough)."""
    if order.paid_at is not None:
        return  # applied before: no need to ask the provider again
    paid = confirm_paid_checkout(order, obj)
    mark_paid(order, payment_intent=paid.get("payment_intent"), amount_minor=paid.get("amount_total"), now=now)


def async_payment_failed(obj: dict, *, now: datetime) -> None:
    order = order_for_event(obj)
    if order is not None:
        mark_unsuccessful(order, "failed")


def checkout_expired(obj: dict, *, now: datetime) -> None:
    order = order_for_event(obj)
    if order is not None:
        mark_unsuccessful(order, "expired")


def charge_refunded(obj: dict, *, now: datetime) -> None:
    order = order_by_payment_intent(obj.get("payment_intent"))
    if order is None or order.status not in ("paid", "refunded"):
        raise EventNotReady(f"refund for unknown or unpaid charge {obj.get('payment_intent')}")
    listed = (obj.get("refunds") or {}).get("data")
    if listed is None:  # since API version 2022-11-15 the charge no longer lists its refunds
        refunds.settle_refunded_total(order, amount_refunded=obj.get("amount_refunded") or 0,
                                      charge_id=obj.get("id") or "", now=now)
        return
    for item in listed:
        if item.get("status", "succeeded") == "succeeded":
            refunds.settle_refund(order, gateway_refund_id=item["id"], amount_minor=item["amount"],
                                  refund_id=(item.get("metadata") or {}).get("refund_id"), now=now)


def dispute_created(obj: dict, *, now: datetime) -> None:
    order = order_by_payment_intent(obj.get("payment_intent"))
    if order is None or order.paid_at is None:
        raise EventNotReady(f"dispute for unknown charge {obj.get('charge')}")
    disputes.open_chargeback(order, stripe_dispute_id=obj["id"], reason=obj.get("reason") or "chargeback",
                             now=now)


def dispute_closed(obj: dict, *, now: datetime) -> None:
    dispute = disputes.by_stripe_id(obj["id"])
    if dispute is None:
        raise EventNotReady(f"closing unknown dispute {obj['id']}")
    disputes.close_chargeback(dispute, won=obj.get("status") == "won", now=now)


def account_updated(obj: dict, *, now: datetime) -> None:
    account = db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.external_id == obj["id"]))
    if account is None:
        raise EventNotReady(f"unknown connected account {obj['id']}")
    ready = bool(obj.get("charges_enabled") or obj.get("payouts_enabled")) and bool(
        obj.get("details_submitted", True))
    account.status, account.updated_at = ("active" if ready else "restricted"), now


def transfer_reversed(obj: dict, *, now: datetime) -> None:
    reverse_paid_payout(obj.get("id"), now=now)


def paypal_item_succeeded(obj: dict, *, now: datetime) -> None:
    payout = payout_for_item(obj.get("payout_item", {}).get("sender_item_id") or obj.get("sender_item_id"))
    if payout is None:
        raise EventNotReady("PayPal item for an unknown payout")
    settle_payout(payout, now=now)


def paypal_item_failed(obj: dict, *, now: datetime) -> None:
    payout = payout_for_item(obj.get("payout_item", {}).get("sender_item_id") or obj.get("sender_item_id"))
    if payout is None:
        raise EventNotReady("PayPal item for an unknown payout")
    fail_payout(payout, reason=f"PayPal: {obj.get('transaction_status', 'failed').lower()}")


HANDLERS = {
    "PAYMENT.PAYOUTS-ITEM.SUCCEEDED": paypal_item_succeeded,
    "PAYMENT.PAYOUTS-ITEM.FAILED": paypal_item_failed,
    "PAYMENT.PAYOUTS-ITEM.BLOCKED": paypal_item_failed,
    "PAYMENT.PAYOUTS-ITEM.DENIED": paypal_item_failed,
    "PAYMENT.PAYOUTS-ITEM.CANCELED": paypal_item_failed,
    "PAYMENT.PAYOUTS-ITEM.RETURNED": paypal_item_failed,
    "checkout.session.completed": checkout_completed,
    "checkout.session.async_payment_succeeded": async_payment_succeeded,
    "checkout.session.async_payment_failed": async_payment_failed,
    "checkout.session.expired": checkout_expired,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "charge.dispute.closed": dispute_closed,
    "account.updated": account_updated,
    "transfer.reversed": transfer_reversed,
}


def apply_event(event_pk: int, *, now: datetime | None = None) -> str:
    """Apply one stored event, idempotently. Returns its status afterwards."""
    event = db.session.get(PaymentEvent, event_pk, with_for_update=True)
    if event is None or event.status in ("applied", "ignored"):
        return event.status if event else "missing"
    handler = HANDLERS.get(event.type)
    # The attempt is counted with the outcome below (one UPDATE); an exception out of here
    # rolls the whole job back, and `record_failure` counts that attempt instead.
    attempts = event.attempts + 1
    if handler is None:
        event.attempts, event.status, event.applied_at = attempts, "ignored", now or utcnow()
        return event.status
    obj = event.payload["resource"] if event.provider == "paypal" else event.payload["data"]["object"]
    try:
        with db.session.begin_nested():
            handler(obj, now=now or utcnow())
    except EventNotReady as exc:
        event.attempts, event.status, event.last_error = attempts, "parked", str(exc)
        return event.status
    except DomainError as exc:
        # A rule refused it (e.g. the buyer was suspended after paying). Retrying cannot fix
        # that and the job wrapper would swallow it, leaving the event pending for ever:
        # show it in the failed list, where an admin sorts it out and presses "retry".
        event.attempts, event.status = attempts, "failed"
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        return event.status
    event.attempts, event.status, event.applied_at, event.last_error = attempts, "applied", now or utcnow(), ""
    return event.status


def record_failure(event_pk: int, error: str) -> None:
    event = db.session.get(PaymentEvent, event_pk)
    if event is not None and event.status not in ("applied", "ignored"):
        event.status, event.last_error = "failed", error[:2000]
        event.attempts += 1


def reconcile_stripe(*, days: int = 3, now: datetime | None = None) -> int:
    """Ask the provider for its recent events and store any that never reached us."""
    now = now or utcnow()
    since = int((now - timedelta(days=days)).timestamp())
    stored = 0
    for event in get_gateway().recent_events(since_ts=since):
        _, created = store_event("stripe", event["id"], event["type"], event)
        stored += created
    return stored
