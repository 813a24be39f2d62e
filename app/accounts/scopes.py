"""What a bearer token may do: the scope vocabulary of the JSON API and the grant a
request carries.

A personal access token (`accounts/api_tokens.py`) and an OAuth 2.0 access token
(`accounts/oauth_server.py`) both resolve to one `Grant`: the user, the scopes the token
holds, and which token it was. The API checks `grant.allows(scope)`; the services below it
still check the user's own permissions, so a scope never gives more than the user has.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.models import PERMISSIONS, User
from app.errors import Invalid

# Plain scopes, in the order a consent page lists them, with what each one lets an app do.
# Every read of your own things needs `read`; each kind of change needs its own scope.
SCOPES = {
    "read": "See your profile, courses, enrollments, orders, earnings, notifications and messages",
    "learn": "Enroll in and buy courses, take lessons and quizzes, review, ask for refunds, "
             "post in discussions and chats, send messages",
    "teach": "Create and edit your courses and submit them for review",
    "sell": "Set up payouts and withdraw your earnings",
}
ADMIN_PREFIX = "admin:"
ADMIN_SCOPES = {f"{ADMIN_PREFIX}{permission}": f"Act as an admin: {permission.replace('_', ' ')}"
                for permission in PERMISSIONS}
ALL_SCOPES = {**SCOPES, **ADMIN_SCOPES}


def parse_scopes(text: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    """Scopes from a space-separated string (OAuth's form) or a list; an unknown one is a
    422 naming it."""
    items = text.split() if isinstance(text, str) else list(text or ())
    unknown = sorted(set(items) - ALL_SCOPES.keys())
    if unknown:
        raise Invalid(f"Unknown scope {unknown[0]!r}. Known scopes: {', '.join(ALL_SCOPES)}.",
                      field="scopes")
    return frozenset(items)


def grantable_scopes(user: User) -> list[str]:
    """The scopes this user may put on a token: every plain scope, and `admin:<permission>`
    for each permission they hold (a superuser holds them all)."""
    admin = [scope for scope in ADMIN_SCOPES if user.has_permission(scope[len(ADMIN_PREFIX):])]
    return [*SCOPES, *admin]


def check_grantable(user: User, scopes: frozenset[str]) -> None:
    """Refuse a token for an admin scope the user does not hold."""
    allowed = set(grantable_scopes(user))
    for scope in sorted(scopes):
        if scope not in allowed:
            raise Invalid(f"You cannot give a token the scope {scope!r}: "
                          "you do not hold that permission.", field="scopes")


def format_scopes(scopes: frozenset[str] | set[str]) -> str:
    """Scopes as the space-separated string OAuth and the database use, in a stable order."""
    return " ".join(scope for scope in ALL_SCOPES if scope in scopes)


@dataclass(frozen=True)
class Grant:
    """Who a bearer token speaks for and what it may do.

    `kind` is "pat" (a personal access token) or "oauth" (an OAuth 2.0 access token);
    `token_id` is that token's row, the key for its rate limit and last-used time.
    `client_id` names the OAuth client, None for a personal token. `expires_at`: when the
    token stops working (a live stream or socket opened with it ends then).
    """

    user: User
    scopes: frozenset[str]
    kind: str
    token_id: int
    client_id: str | None = None
    expires_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """Whether the token holds `scope`; an admin scope also needs the user to still
        hold the permission (revoking it stops the token's admin calls at once)."""
        if scope not in self.scopes:
            return False
        if scope.startswith(ADMIN_PREFIX):
            return self.user.has_permission(scope[len(ADMIN_PREFIX):])
        return True

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.token_id}"
