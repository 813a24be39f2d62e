"""Social log-in with Google and GitHub (Authlib).

A provider is offered only when its client id is configured. A provider e-mail that
matches an existing account links to it only when the provider says it is verified;
otherwise the person must log in with their password first.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from authlib.integrations.flask_client import OAuth
from flask import Flask

from app.accounts.auth import clean_display_name, ensure_not_suspended
from app.accounts.emails import clean_email
from app.accounts.events import UserSignedUp
from app.accounts.models import OAuthIdentity, User
from app.accounts.queries import user_by_email
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid
from app.events import emit
from app.extensions import db

oauth = OAuth()

PROVIDERS = {
    "google": {
        "label": "Google",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "access_token_url": "https://oauth2.googleapis.com/token",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "client_kwargs": {"scope": "email profile"},
    },
    "github": {
        "label": "GitHub",
        "authorize_url": "https://github.com/login/oauth/authorize",
        "access_token_url": "https://github.com/login/oauth/access_token",
        "api_base_url": "https://api.github.com/",
        "client_kwargs": {"scope": "read:user user:email"},
    },
}


@dataclass(frozen=True)
class ProviderProfile:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


def init_oauth(app: Flask) -> None:
    oauth.init_app(app)
    for name, settings in PROVIDERS.items():
        client_id = app.config.get(f"{name.upper()}_CLIENT_ID")
        if client_id:
            options = {k: v for k, v in settings.items() if k != "label"}
            oauth.register(name, client_id=client_id,
                           client_secret=app.config.get(f"{name.upper()}_CLIENT_SECRET"),
                           overwrite=True, **options)


def enabled_providers(app: Flask) -> list[tuple[str, str]]:
    return [(name, s["label"]) for name, s in PROVIDERS.items()
            if app.config.get(f"{name.upper()}_CLIENT_ID")]


def fetch_profile(provider: str, token: dict) -> ProviderProfile:
    """Ask the provider who signed in (an HTTP call with the access token)."""
    client = oauth.create_client(provider)
    if provider == "google":
        info = client.get(PROVIDERS["google"]["userinfo_endpoint"], token=token).json()
        return ProviderProfile("google", str(info["sub"]), info.get("email"),
                               bool(info.get("email_verified")), info.get("name") or "")
    if provider == "github":
        info = client.get("user", token=token).json()
        emails = client.get("user/emails", token=token).json()
        primary = next((e for e in emails if e.get("primary")), None) if isinstance(emails, list) else None
        email = primary["email"] if primary else info.get("email")
        verified = bool(primary and primary.get("verified"))
        return ProviderProfile("github", str(info["id"]), email, verified,
                               info.get("name") or info.get("login") or "")
    raise Invalid(f"Unknown sign-in provider {provider!r}.")


def sign_in_with_provider(profile: ProviderProfile) -> User:
    """The user for this provider identity: existing, linked by verified e-mail, or new."""
    identity = db.session.scalar(sa.select(OAuthIdentity).where(
        OAuthIdentity.provider == profile.provider, OAuthIdentity.subject == profile.subject))
    if identity is not None:
        ensure_not_suspended(identity.user)
        return identity.user
    if not profile.email:
        raise Invalid("Your account with that provider has no e-mail address we can use.")
    email = clean_email(profile.email)
    user = user_by_email(email)
    if user is not None:
        if not profile.email_verified:
            raise Conflict("An account with this e-mail already exists, and the provider has "
                           "not verified the address. Log in with your password instead.")
        ensure_not_suspended(user)
    else:
        # Only a verified address may start an account: otherwise anyone could claim a
        # victim's e-mail at the provider and keep a way into the account after a reset.
        if not profile.email_verified:
            raise Invalid(f"Your {profile.provider.title()} e-mail address is not verified. Verify "
                          "it there first, or sign up with e-mail and a password.")
        name = profile.name.strip() or email.split("@")[0]
        user = User(email=email, display_name=clean_display_name(name[:80]), password_hash=None,
                    email_verified_at=utcnow() if profile.email_verified else None)
        db.session.add(user)
        db.session.flush()
        emit(UserSignedUp(user_id=user.id))
    db.session.add(OAuthIdentity(user_id=user.id, provider=profile.provider,
                                 subject=profile.subject, email=email))
    db.session.flush()
    return user
