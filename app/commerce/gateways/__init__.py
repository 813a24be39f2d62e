"""The payment gateways' one interface: what a gateway does and what it answers with.

The implementations (`stripe`, `local`, and the PayPal payouts client) live beside this module
and import it; it imports none of them back. Which one is live is decided above them, in
`commerce/payment_gateway.py` (`PAYMENT_GATEWAY`), so nothing else knows. Both card gateways
create checkout sessions, refund, onboard creators for payouts and transfer money, and both
report back through the same Stripe-shaped, signed webhook events. Ledger money held at the
provider is `asset:gateway:stripe` either way (the local gateway stands in for Stripe).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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

