"""The token's own user, and the token itself."""
from __future__ import annotations

from flask import g, url_for
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.openapi import ApiModel, operation
from app.blueprints.api.schemas import Time


class TokenInfo(ApiModel):
    kind: str = Field(description="`pat` (a personal access token) or `oauth`")
    scopes: list[str]
    client_id: str | None = Field(None, description="The OAuth app the token was issued to")


class Me(ApiModel):
    id: int
    email: str
    display_name: str
    headline: str
    bio: str
    avatar_url: str | None
    email_verified: bool
    created_at: Time
    admin_permissions: list[str] = Field(description="Empty for everyone but admins")
    token: TokenInfo


@bp.get("/me")
@operation(tags=["Account"], token=True, model=Me)
def me():
    """Who the token speaks for

    The token's user and what the token may do; any token, whatever its scopes."""
    grant = g.api_grant
    user = grant.user
    return Me(id=user.id, email=user.email, display_name=user.display_name, headline=user.headline,
              bio=user.bio, avatar_url=url_for("main.avatar", key=user.avatar_key) if user.avatar_key else None,
              email_verified=user.email_verified_at is not None, created_at=user.created_at,
              admin_permissions=sorted(user.permissions),
              token=TokenInfo(kind=grant.kind, scopes=sorted(grant.scopes), client_id=grant.client_id))
