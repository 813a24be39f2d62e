"""The live payment gateway: the one `PAYMENT_GATEWAY` names (`local` or `stripe`).

This is where a gateway is put together with what it needs. Stripe is told our webhook URL in
its dashboard and posts signed events to `/webhooks/stripe`; the local gateway is handed the
receiver that URL calls (`webhooks.receive_stripe`), so its events take the same path from
the signature check on. The gateways themselves (`commerce/gateways/`) import neither this
module nor the webhook receiver, which keeps the import graph one-way:
services → this registry → gateways and the webhook inbox.
"""
from __future__ import annotations

from flask import current_app

from app.commerce.gateways import Gateway
from app.commerce.gateways.local import LocalGateway
from app.commerce.gateways.stripe import StripeGateway
from app.commerce.webhooks import receive_stripe


def get_gateway() -> Gateway:
    name = current_app.config["PAYMENT_GATEWAY"]
    if name == "stripe":
        return StripeGateway(current_app.config["STRIPE_SECRET_KEY"], current_app.config.get("STRIPE_API_BASE"))
    if name == "local":
        return LocalGateway(deliver=receive_stripe)
    raise RuntimeError(f"Unknown PAYMENT_GATEWAY {name!r}: use 'local' or 'stripe'.")
