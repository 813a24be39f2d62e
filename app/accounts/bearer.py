"""A bearer token, whichever kind it is, to the `Grant` it carries (accounts/scopes.py).

Personal access tokens and OAuth 2.0 access tokens are told apart by their prefix; each
kind checks its own expiry and revocation, and the user's suspension (a suspended user's
token raises AccountSuspended at once).
"""
from __future__ import annotations

from app.accounts.api_tokens import TOKEN_PREFIX as PAT_PREFIX
from app.accounts.api_tokens import authenticate_token
from app.accounts.oauth_server import ACCESS_TOKEN_PREFIX as OAUTH_PREFIX
from app.accounts.oauth_server import authenticate_oauth_token
from app.accounts.scopes import Grant

MAX_TOKEN_CHARS = 200


def token_from_header(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value; None for another
    scheme or no token."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def resolve_bearer(token: str) -> Grant | None:
    """The grant of a live token; None for anything else (unknown, expired, revoked, junk)."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    if token.startswith(PAT_PREFIX):
        return authenticate_token(token)
    if token.startswith(OAUTH_PREFIX):
        return authenticate_oauth_token(token)
    return None
