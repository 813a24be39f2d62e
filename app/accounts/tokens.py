"""Signed, expiring, single-purpose links (password reset, e-mail change)."""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.accounts.errors import BadToken


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"lyceum.{purpose}")


def fingerprint(value: str | None) -> str:
    """A short digest of state the token must still match (e.g. the password hash),
    so a link stops working once it has been used."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def make_token(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int) -> dict:
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise BadToken() from exc
    if not isinstance(payload, dict):
        raise BadToken()
    return payload
