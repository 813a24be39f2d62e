"""Granting and revoking admin permissions (audited)."""
from __future__ import annotations

from app.accounts.models import PERMISSIONS, AdminPermission, User
from app.accounts.permissions import can_grant_permission, can_revoke_permission
from app.errors import Invalid
from app.extensions import db
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.policy import require


def _check_known(permission: str) -> None:
    if permission not in PERMISSIONS:
        raise Invalid(f"Unknown permission {permission!r}.")


def grant_permission(actor: User | None, target: User, permission: str, *, ip: str | None = None,
                     system: bool = False) -> None:
    """Give `target` the admin `permission`. `system=True` is for operator CLI commands."""
    _check_known(permission)
    if not system:
        require(can_grant_permission(actor, target, permission), f"grant {permission}")
    if permission in target.permissions:
        return
    before = sorted(target.permissions)
    target.permission_grants.append(
        AdminPermission(permission=permission, granted_by_id=actor.id if actor else None))
    db.session.flush()
    record_audit(actor, "user.permission_granted", target, ip=ip,
                 before={"permissions": before}, after={"permissions": sorted(target.permissions)})
    if not system:  # operators' CLI grants are set-up, not news
        notify(target, "admin.permissions_changed", permissions=sorted(target.permissions))


def revoke_permission(actor: User, target: User, permission: str, *, ip: str | None = None) -> None:
    _check_known(permission)
    require(can_revoke_permission(actor, target, permission), f"revoke {permission}")
    grant = next((g for g in target.permission_grants if g.permission == permission), None)
    if grant is None:
        return
    before = sorted(target.permissions)
    target.permission_grants.remove(grant)
    db.session.flush()
    record_audit(actor, "user.permission_revoked", target, ip=ip,
                 before={"permissions": before}, after={"permissions": sorted(target.permissions)})
    notify(target, "admin.permissions_changed", permissions=sorted(target.permissions))
