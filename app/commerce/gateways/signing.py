"""Stripe's webhook signature scheme: `t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")`.
The local gateway signs its events this way; tests sign their fake Stripe events the same."""
from __future__ import annotations

import hashlib
import hmac
import time


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
