from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

# What an admin can hold. `superuser` implies every other permission.
PERMISSIONS = ("review_courses", "manage_finance", "moderate", "manage_users", "superuser")
PERMISSION_LABELS = {
    "review_courses": "Review courses",
    "manage_finance": "Manage finance",
    "moderate": "Moderate",
    "manage_users": "Manage users",
    "superuser": "Superuser (every permission)",
}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))  # None: social log-in only
    headline: Mapped[str] = mapped_column(sa.String(120), default="")
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    avatar_key: Mapped[str | None] = mapped_column(sa.String(80))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(sa.Text)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    creator_terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Cached view of the creator's available ledger balance, in minor units (ARCHITECTURE §4).
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    permission_grants: Mapped[list[AdminPermission]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin",
        foreign_keys="AdminPermission.user_id")

    # Not columns: the server-side session this object was signed in or loaded with
    # (app/accounts/sessions.py). Flask-Login keeps `get_id()` in the session and remember
    # cookies, so the cookies carry the session's token, never the user id.
    session_id = None  # int: the UserSession row of this request (live connections keep it)
    session_token = None  # str: the secret whose sha256 is that row's token_hash

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("start a session (accounts.sessions.start_session) before login_user")
        return self.session_token

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(grant.permission for grant in self.permission_grants)

    def has_permission(self, permission: str) -> bool:
        held = self.permissions
        return permission in held or "superuser" in held

    @property
    def is_admin(self) -> bool:
        return bool(self.permission_grants)

    def is_suspended(self, now: datetime | None = None) -> bool:
        if self.suspended_at is None:
            return False
        return self.suspended_until is None or self.suspended_until > (now or utcnow())

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_suspended()

    @property
    def is_active_seller(self) -> bool:
        """Suspended creators' courses stay visible but cannot be bought."""
        return not self.is_suspended()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class AdminPermission(db.Model):
    __tablename__ = "admin_permission"
    __table_args__ = (sa.UniqueConstraint("user_id", "permission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    permission: Mapped[str] = mapped_column(sa.String(32))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="permission_grants", foreign_keys=[user_id])


class OAuthIdentity(db.Model):
    """A Google or GitHub account linked to a Lyceum user."""

    __tablename__ = "oauth_identity"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One signed-in browser. The cookies carry a random token; the row keeps only its
    sha256, so a copy of the table signs no one in. Ending a session deletes its row (a
    revoked session has nothing left worth keeping, and the loader needs no extra test)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
    remembered: Mapped[bool] = mapped_column(default=False)  # "Remember me": a longer idle timeout

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


class ApiToken(db.Model):
    """A personal access token for the JSON API (accounts/api_tokens.py). The secret is
    shown once, when it is made; the row keeps only its sha256, so a copy of the table
    calls no API. Revoking a token keeps its row (`revoked_at`), so the list can say so."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))  # what the user calls it
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, index=True)
    # The secret's first characters ("lyc_pat_AbCd"), shown in the list so a user can tell
    # their tokens apart; too short to call anything with.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scopes: Mapped[str] = mapped_column(sa.String(400))  # space-separated (scopes.format_scopes)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… of user {self.user_id}>"


# --- OAuth 2.0 authorization server (issue 16; app/accounts/oauth_server.py) ------------------
# The apps that sign people in through /oauth/authorize, the one-time codes they exchange, and
# the tokens they hold. Codes and tokens are kept only as sha256 hashes: a copy of these tables
# signs no one in. The Authlib protocol methods (ClientMixin, …) are plain reads of the columns.

class OAuthClient(db.Model, ClientMixin):
    """An app registered to ask Lyceum users for access. A public client (the mobile app, a
    single-page app) has no secret and must use PKCE (S256); a confidential one authenticates
    at the token endpoint with its secret, kept here only as a sha256 hash."""

    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(48), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))  # None: a public client
    name: Mapped[str] = mapped_column(sa.String(80))
    redirect_uris: Mapped[str] = mapped_column(sa.Text)  # one URI a line, matched exactly
    scope: Mapped[str] = mapped_column(sa.Text)  # the scopes it may ask for, space-separated
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)  # None: ours (first-party)
    is_first_party: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()

    @property
    def is_public(self) -> bool:
        return self.client_secret_hash is None

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.splitlines() if uri]

    # Authlib's ClientMixin
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.redirect_uri_list
        return uris[0] if len(uris) == 1 else None  # with several, the app must name one

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope if the client may ask for all of it, else None (invalid_scope);
        no scope asked: everything the client may ask for."""
        allowed = self.scope.split()
        if not scope:
            return " ".join(allowed)
        requested = scope.split()
        return " ".join(requested) if set(requested) <= set(allowed) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret_hash is None:
            return False
        digest = hashlib.sha256(client_secret.encode()).hexdigest()
        return hmac.compare_digest(digest, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    def __repr__(self) -> str:
        return f"<OAuthClient {self.client_id} {self.name!r}>"


class OAuthAuthorizationCode(db.Model, AuthorizationCodeMixin):
    """A one-time code /oauth/authorize gave an app, exchanged at /oauth/token within minutes.
    A used code stays (used_at set) so that a second use can revoke what the first one got."""

    __tablename__ = "oauth_authorization_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(sa.Text)
    scope: Mapped[str] = mapped_column(sa.Text)
    code_challenge: Mapped[str | None] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # Authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class OAuthToken(db.Model, TokenMixin):
    """An access token (1 hour) and its refresh token (30 days) given to an app for a user.
    Using the refresh token revokes this row and issues a new one (rotation); `code_id`
    links every row that descends from one authorization code, so a replayed code or refresh
    token revokes them all."""

    __tablename__ = "oauth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("oauth_authorization_code.id", ondelete="SET NULL"), index=True)
    scope: Mapped[str] = mapped_column(sa.Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_in: Mapped[int] = mapped_column()  # seconds, as the token response said
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # Authlib's TokenMixin
    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client

    def __repr__(self) -> str:
        return f"<OAuthToken {self.id} client {self.client_id} user {self.user_id}>"
