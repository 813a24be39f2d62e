"""Pure account rules: who may manage whom. No database access, no request."""
from __future__ import annotations

from app.accounts.models import PERMISSIONS


def is_signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def can_manage_users(actor) -> bool:
    return is_signed_in(actor) and actor.has_permission("manage_users")


def can_view_admin(actor) -> bool:
    return is_signed_in(actor) and actor.is_admin


def can_suspend_user(actor, target) -> bool:
    if not can_manage_users(actor) or target is None or actor.id == target.id:
        return False
    # Only a superuser may lock out another superuser.
    return "superuser" not in target.permissions or actor.has_permission("superuser")


def can_grant_permission(actor, target, permission: str) -> bool:
    """`manage_users` changes other people's admin permissions; only a superuser changes a
    superuser's, or their own (never their own superuser)."""
    if permission not in PERMISSIONS or not can_manage_users(actor) or target is None:
        return False
    if permission == "superuser":
        return actor.has_permission("superuser") and actor.id != target.id
    if actor.id == target.id or "superuser" in target.permissions:
        return actor.has_permission("superuser")
    return True


def can_revoke_permission(actor, target, permission: str) -> bool:
    # Same rule as granting: superuser only by another superuser, never your own.
    return can_grant_permission(actor, target, permission)


def can_view_audit_log(actor) -> bool:
    return is_signed_in(actor) and (actor.has_permission("manage_users")
                                    or actor.has_permission("superuser"))


def can_revoke_session(actor, session) -> bool:
    """Only the session's own user ends it from the settings (admins suspend instead)."""
    return is_signed_in(actor) and session is not None and session.user_id == actor.id


def can_revoke_api_token(actor, token) -> bool:
    """Only the token's own user revokes it (an admin suspends the account instead)."""
    return is_signed_in(actor) and token is not None and token.user_id == actor.id
