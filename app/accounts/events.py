"""The facts about accounts that other domains react to (ARCHITECTURE §11).

Declared here because accounts owns the user and their sessions, even where another domain
causes the fact: moderation suspends a user and emits `UserSuspended`.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.events import Event


@dataclass(frozen=True)
class UserSignedUp(Event, name="accounts.user.signed_up"):
    """A new account exists (by e-mail and password, or by a first OAuth sign-in)."""

    user_id: int


@dataclass(frozen=True)
class UserSuspended(Event, name="accounts.user.suspended"):
    user_id: int


@dataclass(frozen=True)
class UserUnsuspended(Event, name="accounts.user.unsuspended"):
    user_id: int


@dataclass(frozen=True)
class SessionsRevoked(Event, name="accounts.sessions.revoked"):
    """Sessions of `user_id` ended on the server; `session_ids` None means every one of them,
    so whatever was opened under them (sockets, streams) must close too."""

    user_id: int
    session_ids: list[int] | None


@dataclass(frozen=True)
class ApiTokenRevoked(Event, name="accounts.token.revoked"):
    """A personal access token of `user_id` was revoked, so whatever was opened with it
    (an event stream, a room socket) must close too, as for a revoked session."""

    user_id: int
    token_id: int


@dataclass(frozen=True)
class DeletionRequested(Event, name="accounts.deletion.requested"):
    user_id: int
