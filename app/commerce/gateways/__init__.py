"""Payment gateways behind one interface, chosen by `PAYMENT_GATEWAY` (`local` or `stripe`).

Nothing outside this package knows which one is live: both create checkout sessions, refund,
onboard creators for payouts and transfer money, and both report back through the same
Stripe-shaped, signed webhook events on `/webhooks/stripe`. Ledger money held at the
provider is `asset:gateway:stripe` either way (the local gateway stands in for Stripe).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app

LEDGER_PROVIDER = "stripe"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class TransferResult:
    ok: bool
    external_id: str | None = None
    failure: str = ""
    pending: bool = False  # accepted, but the provider reports the outcome later (PayPal)


class Gateway(Protocol):
    name: str

    def create_checkout(self, order, *, success_url: str, cancel_url: str) -> CheckoutSession: ...

    def confirm_checkout(self, notice: dict) -> dict | None:
        """The provider's own record of the checkout session an event names (None: it has no
        such session). A signed event is a notice, not the truth."""
        ...

    def refund(self, order, *, amount_minor: int, refund_id: int) -> str: ...

    def recent_events(self, *, since_ts: int) -> list[dict]: ...

    def create_connect_account(self, user) -> str: ...

    def onboarding_link(self, account_id: str, *, return_url: str, refresh_url: str) -> str: ...

    def transfer(self, payout) -> TransferResult: ...


def get_gateway() -> Gateway:
    name = current_app.config["PAYMENT_GATEWAY"]
    if name == "stripe":
        from app.commerce.gateways.stripe import StripeGateway

        return StripeGateway(current_app.config["STRIPE_SECRET_KEY"], current_app.config.get("STRIPE_API_BASE"))
    if name == "local":
        from app.commerce.gateways.local import LocalGateway

        return LocalGateway()
    raise RuntimeError(f"Unknown PAYMENT_GATEWAY {name!r}: use 'local' or 'stripe'.")
