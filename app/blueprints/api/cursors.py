"""Opaque cursors for lists: the client passes back `next_cursor` and learns nothing else.

A cursor is the position of the next page, base64url-encoded JSON and signed with the app's
secret, so a client cannot forge one into a position it was never given (a page past
100,000, say). Keyset lists put the last item's sort key in it; the catalog search,
ranked by relevance, puts its page number.
"""
from __future__ import annotations

import base64
import json

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.blueprints.api.problems import problem


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="lyceum.api.cursor")


def encode_cursor(position: dict) -> str:
    return _signer().dumps(position)


def decode_cursor(cursor: str | None, *, kind: str) -> dict | None:
    """The position a cursor names; a 422 for one we did not give, or for another list."""
    if cursor is None:
        return None
    try:
        position = _signer().loads(cursor)
    except (BadSignature, ValueError, UnicodeDecodeError, json.JSONDecodeError, base64.binascii.Error):
        position = None
    if not isinstance(position, dict) or position.get("kind") != kind:
        raise problem(422, "This cursor is not one this list gave out; start again without it.")
    return position
