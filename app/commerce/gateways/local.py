"""The embedded default's payment gateway: a test checkout page on our own site.

It never moves real money. What it does is produce exactly what Stripe would: events of the
same shape, signed with the webhook secret the Stripe way, delivered to the same webhook
receiver that `/webhooks/stripe` calls, so everything after the signature check runs the same
code as in production. That receiver is handed in (`deliver`, by `commerce/payment_gateway.py`),
the way Stripe is given our webhook URL: the gateway does not import what receives its events.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from flask import current_app, url_for

from app.commerce.gateways import CheckoutSession, TransferResult
from app.commerce.gateways.signing import sign
from app.extensions import get_redis, redis_key


def _event_log() -> str:
    """The events "sent", newest last: what `recent_events` lists for reconciliation."""
    return redis_key("local-gateway", "events")


def _id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(10)}"


class LocalGateway:
    name = "local"

    def __init__(self, *, deliver: Callable[[bytes, str], object]):
        """`deliver(payload, signature)`: where the signed events go (our webhook receiver)."""
        self.deliver = deliver

    def create_checkout(self, order, *, success_url: str, cancel_url: str) -> CheckoutSession:
        session_id = order.checkout_session_id or _id("cs")
        return CheckoutSession(session_id, url_for("checkout.local_pay_page", session_id=session_id))

    def confirm_checkout(self, notice: dict) -> dict | None:
        """The local gateway is its own provider: the events it signed are its record."""
        return notice

    # --- what the test checkout page's buttons do --------------------------------------

    def pay(self, order) -> dict:
        payment_intent = _id("pi")
        return self.send_webhook("checkout.session.completed", {
            "id": order.checkout_session_id, "object": "checkout.session", "mode": "payment",
            "status": "complete", "payment_status": "paid", "amount_total": order.price_minor,
            "currency": order.currency.lower(), "payment_intent": payment_intent,
            "client_reference_id": str(order.id),
            "metadata": {"order_id": str(order.id), "course_id": str(order.course_id),
                         "buyer_id": str(order.buyer_id)}})

    def decline(self, order) -> dict:
        return self.send_webhook("checkout.session.expired", {
            "id": order.checkout_session_id, "object": "checkout.session", "status": "expired",
            "payment_status": "unpaid", "amount_total": order.price_minor,
            "currency": order.currency.lower(), "client_reference_id": str(order.id),
            "metadata": {"order_id": str(order.id)}})

    # --- the rest of the interface ---------------------------------------------------------

    def refund(self, order, *, amount_minor: int, refund_id: int) -> str:
        refund_id_ext = _id("re")
        self.send_webhook("charge.refunded", {
            "id": _id("ch"), "object": "charge", "payment_intent": order.payment_intent_id,
            "amount": order.price_minor, "amount_refunded": order.refunded_minor + amount_minor,
            "currency": order.currency.lower(),
            "refunds": {"object": "list", "data": [{
                "id": refund_id_ext, "object": "refund", "amount": amount_minor,
                "status": "succeeded", "metadata": {"refund_id": str(refund_id), "order_id": str(order.id)}}]}})
        return refund_id_ext

    def recent_events(self, *, since_ts: int) -> list[dict]:
        events = [json.loads(raw) for raw in get_redis().lrange(_event_log(), 0, -1)]
        return [event for event in events if event["created"] >= since_ts]

    def create_connect_account(self, user) -> str:
        return _id("acct")

    def onboarding_link(self, account_id: str, *, return_url: str, refresh_url: str) -> str:
        # Nothing to fill in locally: the account is ready at once (as after Stripe's forms).
        self.send_webhook("account.updated", {"id": account_id, "object": "account",
                                      "charges_enabled": True, "payouts_enabled": True,
                                      "details_submitted": True})
        return return_url

    def transfer(self, payout) -> TransferResult:
        return TransferResult(True, external_id=_id("tr"))

    # --- signed delivery -------------------------------------------------------------------

    def send_webhook(self, event_type: str, obj: dict) -> dict:
        """Sign a Stripe-shaped event, log it for `recent_events` and deliver it."""
        event = {"id": _id("evt"), "object": "event", "type": event_type, "created": int(time.time()),
                 "livemode": False, "api_version": "2025-10-29", "data": {"object": obj}}
        payload = json.dumps(event).encode()
        redis = get_redis()
        redis.rpush(_event_log(), payload)
        redis.ltrim(_event_log(), -5000, -1)
        self.deliver(payload, sign(payload, current_app.config["STRIPE_WEBHOOK_SECRET"]))
        return event
