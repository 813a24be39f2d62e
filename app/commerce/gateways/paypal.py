"""PayPal Payouts for creators who choose PayPal: one payout per batch, `sender_batch_id` as
the idempotency key; status from webhooks and a polling job. Without PayPal credentials
(the embedded default) payouts to PayPal succeed at once, like the local card gateway."""
from __future__ import annotations

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
                                            "amount": {"value": f"{payout.amount_minor / 100:.2f}",
                                                       "currency": payout.currency}}]})
        if resp.status_code == 400 and "SENDER_BATCH_ID" in resp.text.upper():
            # Sent before (a retried job): the outcome arrives by webhook.
            return TransferResult(True, external_id=payout.external_id, pending=True)
        if 400 <= resp.status_code < 500:
            return TransferResult(False, failure=resp.json().get("message", resp.text)[:500])
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


def paypal_payouts() -> PayPalPayouts | None:
    cfg = current_app.config
    if not cfg.get("PAYPAL_CLIENT_ID"):
        return None
    return PayPalPayouts(cfg["PAYPAL_CLIENT_ID"], cfg["PAYPAL_SECRET"], cfg["PAYPAL_API_BASE"])
