"""Stripe: Checkout Sessions, refunds, Connect Express accounts and transfers (stripe 16)."""
from __future__ import annotations

import stripe

from app.commerce.gateways import CheckoutSession, TransferResult


class StripeGateway:
    name = "stripe"

    def __init__(self, secret_key: str | None, api_base: str | None = None):
        if not secret_key:
            raise RuntimeError("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY.")
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        self.client = stripe.StripeClient(secret_key, max_network_retries=2, **options)

    def create_checkout(self, order, *, success_url: str, cancel_url: str) -> CheckoutSession:
        session = self.client.v1.checkout.sessions.create(params={
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": order.currency.lower(), "unit_amount": order.price_minor,
                "product_data": {"name": order.course.title}}}],
            "client_reference_id": str(order.id),
            "customer_email": order.buyer.email,
            "metadata": {"order_id": str(order.id), "course_id": str(order.course_id),
                         "buyer_id": str(order.buyer_id)},
            "payment_intent_data": {"metadata": {"order_id": str(order.id)}},
            "success_url": success_url, "cancel_url": cancel_url,
        }, options={"idempotency_key": f"checkout-order-{order.id}"})
        return CheckoutSession(session.id, session.url)

    def confirm_checkout(self, notice: dict) -> dict | None:
        """Stripe's record of the session, fetched from its API (an event could be forged)."""
        session_id = notice.get("id")
        if not isinstance(session_id, str) or not session_id.startswith("cs_"):
            return None  # also keeps an empty id from asking for the list of sessions
        try:
            session = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise  # anything else (Stripe down, rate limited): the job retries
        return session.to_dict()

    def refund(self, order, *, amount_minor: int, refund_id: int) -> str:
        refund = self.client.v1.refunds.create(params={
            "payment_intent": order.payment_intent_id, "amount": amount_minor,
            "metadata": {"refund_id": str(refund_id), "order_id": str(order.id)},
        }, options={"idempotency_key": f"refund-{refund_id}"})
        return refund.id

    def recent_events(self, *, since_ts: int) -> list[dict]:
        events = self.client.v1.events.list(params={"created": {"gte": since_ts}, "limit": 100})
        return [event.to_dict() for event in events.auto_paging_iter()]

    def create_connect_account(self, user) -> str:
        account = self.client.v1.accounts.create(params={
            "type": "express", "email": user.email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": str(user.id)}}, options={"idempotency_key": f"connect-{user.id}"})
        return account.id

    def onboarding_link(self, account_id: str, *, return_url: str, refresh_url: str) -> str:
        link = self.client.v1.account_links.create(params={
            "account": account_id, "type": "account_onboarding",
            "return_url": return_url, "refresh_url": refresh_url})
        return link.url

    def transfer(self, payout) -> TransferResult:
        try:
            transfer = self.client.v1.transfers.create(params={
                "amount": payout.amount_minor, "currency": payout.currency.lower(),
                "destination": payout.destination, "metadata": {"payout_id": str(payout.id)},
            }, options={"idempotency_key": f"payout-{payout.id}"})
        except stripe.InvalidRequestError as exc:  # refused: the money goes back to the creator
            return TransferResult(False, failure=exc.user_message or str(exc))
        return TransferResult(True, external_id=transfer.id)
