"""PayPal Payouts for creators who choose PayPal: one payout per batch, `sender_batch_id` as
the idempotency key; status from webhooks and a polling job. Without PayPal credentials
(the embedded default) payouts to PayPal succeed at once, like the local card gateway."""
from __future__ import annotations

import re

import requests
from flask import current_app

from app.commerce.gateways import TransferResult

TIMEOUT = 20


class PayPalPayouts:
    def __init__(self, client_id: str, secret: str, base_url: str):
        self.client_id, self.secret, self.base_url = client_id, secret, base_url.rstrip("/")

    def _token(self) -> str:
        resp = requests.post(f"{self.base_url}/v1/oauth2/token", auth=(self.client_id, self.secret),
                             data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
        resp.raise_for_status()
        return resp.json()["access_token"]

    def send(self, payout) -> TransferResult:
        token = self._token()
        resp = requests.post(f"{self.base_url}/v1/payments/payouts", timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"sender_batch_header": {
                                 "sender_batch_id": f"payout-{payout.id}",
                                 "email_subject": "Your Lyceum earnings"},
                                 "items": [{"recipient_type": "EMAIL", "receiver": payout.destination,
                                            "sender_item_id": f"payout-{payout.id}",
                                            "amount": {"value": _decimal(payout.amount_minor),
                                                       "currency": payout.currency}}]})
        duplicate, batch_id = _duplicate_batch(resp)
        if duplicate:
            # Sent before (a retried job): the original batch's webhook (or the poll) settles it.
            return TransferResult(True, external_id=batch_id or payout.external_id, pending=True)
        if 400 <= resp.status_code < 500:
            body = _json(resp)
            return TransferResult(False, failure=str(body.get("message") or body.get("name")
                                                     or resp.text or f"HTTP {resp.status_code}")[:500])
        resp.raise_for_status()  # 5xx: let the job retry with the same sender_batch_id
        return TransferResult(True, external_id=resp.json()["batch_header"]["payout_batch_id"],
                              pending=True)

    def verify_webhook(self, headers, event: dict, webhook_id: str) -> bool:
        """PayPal checks its own signature (POST /v1/notifications/verify-webhook-signature)."""
        token = self._token()
        resp = requests.post(f"{self.base_url}/v1/notifications/verify-webhook-signature",
                             timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}"},
                             json={"auth_algo": headers.get("PAYPAL-AUTH-ALGO", ""),
                                   "cert_url": headers.get("PAYPAL-CERT-URL", ""),
                                   "transmission_id": headers.get("PAYPAL-TRANSMISSION-ID", ""),
                                   "transmission_sig": headers.get("PAYPAL-TRANSMISSION-SIG", ""),
                                   "transmission_time": headers.get("PAYPAL-TRANSMISSION-TIME", ""),
                                   "webhook_id": webhook_id, "webhook_event": event})
        return resp.ok and resp.json().get("verification_status") == "SUCCESS"

    def batch_status(self, batch_id: str) -> str:
        token = self._token()
        resp = requests.get(f"{self.base_url}/v1/payments/payouts/{batch_id}", timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {token}"})
        resp.raise_for_status()
        return resp.json()["batch_header"]["batch_status"]


def _decimal(minor: int) -> str:
    """Minor units as PayPal's decimal string, exactly (never through a float)."""
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}"


def _json(resp) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


_BATCH_LINK = re.compile(r"/v1/payments/payouts/([A-Za-z0-9_-]+)")


def _duplicate_batch(resp) -> tuple[bool, str | None]:
    """PayPal's answer to a `sender_batch_id` used in the last 30 days: a 400 whose detail on
    SENDER_BATCH_ID says the batch "already exists" and links to it. Any other 400 that
    merely names the field is a plain refusal."""
    if resp.status_code != 400:
        return False, None
    for detail in _json(resp).get("details") or []:
        if not isinstance(detail, dict) or str(detail.get("field", "")).upper() != "SENDER_BATCH_ID" \
                or "ALREADY EXISTS" not in str(detail.get("issue", "")).upper():
            continue
        for link in detail.get("link") or []:
            match = _BATCH_LINK.search(str(link.get("href", ""))) if isinstance(link, dict) else None
            if match:
                return True, match.group(1)
        return True, None
    return False, None


def paypal_payouts() -> PayPalPayouts | None:
    cfg = current_app.config
    if not cfg.get("PAYPAL_CLIENT_ID"):
        return None
    return PayPalPayouts(cfg["PAYPAL_CLIENT_ID"], cfg["PAYPAL_SECRET"], cfg["PAYPAL_API_BASE"])
