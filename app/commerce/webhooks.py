"""Provider events in: verify, store once, enqueue the apply job (ARCHITECTURE §6).

`receive_stripe` verifies the signature (5-minute tolerance) and stores the raw event under
its unique provider id; the apply job is enqueued after that commit. A duplicate delivery
finds the stored row and does nothing. Applying an event to our orders, payouts and refunds
is `provider_events.py`'s job; an event that refers to something not there yet is parked
there and re-enqueued by the periodic `retry_waiting_events` here.

This inbox sits low in commerce: it knows stored events, not what they do, so the local
gateway can be handed `receive_stripe` by the services' gateway registry without a cycle.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
import stripe
from flask import current_app
from rq import Retry

from app.commerce.errors import BadSignature
from app.commerce.gateways.paypal import paypal_payouts
from app.commerce.models import PaymentEvent
from app.commerce.settings import can_manage_finance
from app.dbtypes import insert_on_conflict, utcnow
from app.errors import NotFound
from app.extensions import db
from app.policy import require
from app.tasks import enqueue

log = logging.getLogger(__name__)
TOLERANCE_SECONDS = 300


def receive_stripe(payload: bytes, signature: str | None) -> tuple[PaymentEvent, bool]:
    """Verify and store a Stripe event. Returns (event, stored_now)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    try:
        stripe.WebhookSignature.verify_header(payload, signature or "", secret, TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise BadSignature("The webhook signature is missing, wrong or too old.") from exc
    # A correctly signed body that is not an event object must not reach the store (a 500).
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]
            and isinstance(event.get("type"), str) and event["type"]
            and isinstance(event.get("data"), dict) and isinstance(event["data"].get("object"), dict)):
        raise BadSignature("The webhook body is not a Stripe event.")
    return store_event("stripe", event["id"], event["type"], event)


def receive_paypal(payload: bytes, headers) -> tuple[PaymentEvent, bool]:
    """Verify a PayPal webhook with PayPal itself, then store it like any provider event."""
    client, webhook_id = paypal_payouts(), current_app.config.get("PAYPAL_WEBHOOK_ID")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise BadSignature("The webhook body is not JSON.") from exc
    if client is None or not webhook_id or not isinstance(event, dict) or \
            not client.verify_webhook(headers, event, webhook_id):
        raise BadSignature("PayPal did not confirm this webhook.")
    return store_event("paypal", str(event.get("id", "")), str(event.get("event_type", "")), event)


def store_event(provider: str, event_id: str, event_type: str, payload: dict) -> tuple[PaymentEvent, bool]:
    event = db.session.scalar(insert_on_conflict(PaymentEvent).values(
        provider=provider, event_id=event_id, type=event_type, payload=payload, status="pending",
        attempts=0, last_error="", received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["provider", "event_id"]).returning(PaymentEvent))
    if event is None:  # a duplicate delivery: the stored one, untouched
        return db.session.scalar(sa.select(PaymentEvent).where(
            PaymentEvent.provider == provider, PaymentEvent.event_id == event_id)), False
    enqueue_apply(event.id)
    return event, True


def enqueue_apply(event_pk: int) -> None:
    enqueue("app.jobs.payments.apply_payment_event", event_pk, queue="high",
            job_id=f"payment-event-{event_pk}-{utcnow().timestamp():.0f}",
            retry=Retry(max=5, interval=[10, 60, 300, 900, 3600]))


def retry_event(actor, event_pk: int) -> PaymentEvent:
    """The admin's "retry" button on a failed or parked event."""
    require(can_manage_finance(actor), "retry payment events")
    event = db.session.get(PaymentEvent, event_pk)
    if event is None:
        raise NotFound("No such event.")
    if event.status in ("failed", "parked", "pending"):
        event.status = "pending"
        enqueue_apply(event.id)
    return event


def retry_waiting_events(*, now: datetime | None = None, stale_after: timedelta = timedelta(minutes=2)) -> int:
    """Re-enqueue parked events and pending ones whose job was lost (a crash between commit
    and enqueue loses nothing)."""
    now = now or utcnow()
    waiting = list(db.session.scalars(sa.select(PaymentEvent.id).where(sa.or_(
        PaymentEvent.status == "parked",
        sa.and_(PaymentEvent.status == "pending", PaymentEvent.received_at <= now - stale_after)))))
    for event_pk in waiting:
        enqueue_apply(event_pk)
    return len(waiting)


def failed_events(*, statuses=("failed", "parked")) -> list[PaymentEvent]:
    return list(db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.status.in_(statuses))
                                   .order_by(PaymentEvent.received_at.desc())))


UNAPPLIED_STATUSES = ("pending", "parked", "failed")


def unapplied_event_counts() -> dict[str, int]:
    """Provider events stored but not applied yet, by status (every status, 0 when none):
    money that has moved at the provider and not yet in our books."""
    counts = dict(db.session.execute(
        sa.select(PaymentEvent.status, sa.func.count()).where(PaymentEvent.status.in_(UNAPPLIED_STATUSES))
        .group_by(PaymentEvent.status)).all())
    return {status: counts.get(status, 0) for status in UNAPPLIED_STATUSES}
