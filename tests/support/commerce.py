"""Builders for the money tests: paid courses, checkouts through the service, and real
Stripe-shaped events signed with the webhook secret (the same shape app/commerce/gateways/
local.py produces), delivered to the same receiver `/webhooks/stripe` calls.

Delivering commits: the apply job is enqueued after that commit and, with inline queues,
runs in its own session through `app.jobs.payments.apply_payment_event`.
"""
from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import datetime
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import current_app

from app.commerce import ledger
from app.commerce.gateways.signing import sign
from app.commerce.models import LedgerEntry, LedgerTransaction, Order, PaymentEvent
from app.commerce.orders import start_checkout
from app.commerce.webhooks import receive_stripe
from app.extensions import db
from app.learning import progress
from app.learning.queries import ordered_lessons
from tests import factories
from tests.support.learning import course_with_kinds

_seq = itertools.count(1)


def uid(prefix: str) -> str:
    return f"{prefix}_test_{uuid.uuid4().hex[:16]}"


def paid_course(creator=None, *, price_minor: int = 2999, **fields):
    """A published paid course (a bare row: enough for money, no lessons)."""
    return factories.make_course(creator, status="published", price_minor=price_minor, **fields)


def checkout(buyer, course, *, now: datetime | None = None) -> Order:
    """`start_checkout` as the checkout view calls it (it builds the success/cancel URLs)."""
    with current_app.test_request_context():
        order, _url = start_checkout(buyer, course, now=now)
    db.session.flush()
    return order


# --- Stripe-shaped events ------------------------------------------------------------------

def stripe_event(event_type: str, obj: dict, *, event_id: str | None = None,
                 created: int | None = None) -> dict:
    return {"id": event_id or uid("evt"), "object": "event", "type": event_type,
            "created": int(time.time()) if created is None else created, "livemode": False,
            "api_version": "2025-10-29", "data": {"object": obj}}


def session_object(order: Order, *, payment_intent: str | None, payment_status: str = "paid",
                   status: str = "complete", amount: int | None = None) -> dict:
    return {"id": order.checkout_session_id, "object": "checkout.session", "mode": "payment",
            "status": status, "payment_status": payment_status,
            "amount_total": order.price_minor if amount is None else amount,
            "currency": order.currency.lower(), "payment_intent": payment_intent,
            "client_reference_id": str(order.id),
            "metadata": {"order_id": str(order.id), "course_id": str(order.course_id),
                         "buyer_id": str(order.buyer_id)}}


def checkout_completed(order: Order, *, payment_intent: str | None = None, **kw) -> dict:
    return stripe_event("checkout.session.completed",
                        session_object(order, payment_intent=payment_intent or uid("pi"), **kw))


def checkout_async(order: Order, outcome: str, *, payment_intent: str) -> dict:
    """outcome: succeeded | failed"""
    return stripe_event(f"checkout.session.async_payment_{outcome}", session_object(
        order, payment_intent=payment_intent,
        payment_status="paid" if outcome == "succeeded" else "unpaid"))


def checkout_expired(order: Order) -> dict:
    return stripe_event("checkout.session.expired", session_object(
        order, payment_intent=None, payment_status="unpaid", status="expired"))


def charge_refunded(order: Order, *, amount: int, payment_intent: str | None = None,
                    refund_id: int | None = None, gateway_refund_id: str | None = None,
                    already_refunded: int = 0) -> dict:
    metadata = {"order_id": str(order.id)}
    if refund_id is not None:
        metadata["refund_id"] = str(refund_id)
    return stripe_event("charge.refunded", {
        "id": uid("ch"), "object": "charge",
        "payment_intent": payment_intent or order.payment_intent_id,
        "amount": order.price_minor, "amount_refunded": already_refunded + amount,
        "currency": order.currency.lower(),
        "refunds": {"object": "list", "data": [{
            "id": gateway_refund_id or uid("re"), "object": "refund", "amount": amount,
            "status": "succeeded", "metadata": metadata}]}})


def dispute_created(order: Order, *, dispute_id: str, payment_intent: str | None = None) -> dict:
    return stripe_event("charge.dispute.created", {
        "id": dispute_id, "object": "dispute", "charge": uid("ch"),
        "payment_intent": payment_intent or order.payment_intent_id,
        "amount": order.price_minor, "currency": order.currency.lower(),
        "reason": "fraudulent", "status": "needs_response"})


def dispute_closed(order: Order, *, dispute_id: str, won: bool) -> dict:
    return stripe_event("charge.dispute.closed", {
        "id": dispute_id, "object": "dispute", "charge": uid("ch"),
        "payment_intent": order.payment_intent_id, "amount": order.price_minor,
        "currency": order.currency.lower(), "reason": "fraudulent",
        "status": "won" if won else "lost"})


def account_updated(account_id: str, *, ready: bool = True) -> dict:
    return stripe_event("account.updated", {
        "id": account_id, "object": "account", "charges_enabled": ready,
        "payouts_enabled": ready, "details_submitted": ready})


def signed(event: dict, *, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    return payload, sign(payload, secret or current_app.config["STRIPE_WEBHOOK_SECRET"], timestamp)


def deliver(event: dict, *, commit: bool = True, **signing) -> tuple[PaymentEvent, bool]:
    """Receive a signed delivery of `event`; commit so the apply job runs."""
    stored, created = receive_stripe(*signed(event, **signing))
    event_pk = stored.id
    if commit:
        db.session.commit()
    return db.session.get(PaymentEvent, event_pk), created


def buy(buyer, course, *, payment_intent: str | None = None) -> Order:
    """A checkout paid through a signed `checkout.session.completed` delivery."""
    order = checkout(buyer, course)
    db.session.commit()
    deliver(checkout_completed(order, payment_intent=payment_intent))
    return db.session.get(Order, order.id)


# --- reading the outcome --------------------------------------------------------------------

def keys(prefix: str) -> list[str]:
    return list(db.session.scalars(sa.select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.idempotency_key.like(f"{prefix}%")).order_by(LedgerTransaction.id)))


def balances(creator) -> dict[str, int]:
    return ledger.creator_balances(creator.id)


def platform_revenue() -> int:
    return ledger.balance(ledger.COMMISSION)


def events_of(event_type: str) -> list[PaymentEvent]:
    return list(db.session.scalars(sa.select(PaymentEvent).where(PaymentEvent.type == event_type)
                                   .order_by(PaymentEvent.id)))


# --- Stripe at the HTTP boundary -------------------------------------------------------------

STRIPE_API = "https://api.stripe.com"


def stripe_confirms(fake_stripe, event: dict, **changes) -> str:
    """Stripe's API answers for the checkout session `event` names: the event's own session
    with `changes` (what Stripe really holds). Returns the URL, to count the calls to it."""
    session = {**event["data"]["object"], **changes}
    url = f"{STRIPE_API}/v1/checkout/sessions/{session['id']}"
    fake_stripe.get(url, json=session)
    return url


def form_body(call) -> dict[str, str]:
    """A Stripe API request's form-encoded body, as a flat dict (`metadata[order_id]`: …)."""
    body = call.request.body or ""
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else body))


def course_with_lessons(creator, approver, *, lessons: int = 3, price: str = "29.99",
                        title: str = "Paid SQL"):
    """A published paid course with `lessons` text lessons, built through the catalog services."""
    return course_with_kinds(creator, approver, kinds=("text",) * lessons, price=price, title=title,
                        preview_first=False)


def complete_lessons(learner, course, count: int | None = None) -> None:
    """Tick the first `count` lessons (all by default) done through the learning services."""
    for lesson in ordered_lessons(course.id)[:count]:
        progress.complete_lesson(learner, lesson)
    db.session.commit()


def course_with_files(creator, approver, *, kinds=("video", "pdf") * 3, price: str = "29.99",
                      title: str = "Paid files"):
    """A published paid course whose lessons are videos and PDFs (none a free preview)."""
    return course_with_kinds(creator, approver, kinds=kinds, price=price, title=title, preview_first=False)


# --- the JSON API ---------------------------------------------------------------------------

def idempotency(key: str | None = None) -> dict[str, str]:
    """The `Idempotency-Key` header a POST that moves money needs (a fresh key by default)."""
    return {"Idempotency-Key": key or f"key-{uuid.uuid4().hex}"}


def ledger_rows() -> tuple[int, int]:
    """How many ledger transactions and entries exist: unchanged means no money moved."""
    db.session.expire_all()
    return (db.session.scalar(sa.select(sa.func.count(LedgerTransaction.id))),
            db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))))
