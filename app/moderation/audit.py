"""The audit log: every admin action writes one row, in the same transaction."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.moderation.models import AuditLog


def _label(target) -> str:
    for attr in ("email", "title", "name"):
        value = getattr(target, attr, None)
        if value:
            return str(value)[:255]
    return ""


def record_audit(actor, action: str, target, *, before: dict | None = None,
                 after: dict | None = None, reason: str = "", ip: str | None = None) -> AuditLog:
    entry = AuditLog(
        actor_id=getattr(actor, "id", None), action=action,
        target_type=type(target).__name__.lower(), target_id=getattr(target, "id", None),
        target_label=_label(target), before=before, after=after, reason=reason or "", ip=ip)
    db.session.add(entry)
    return entry


def audit_entries(*, action: str = "", actor_id: int | None = None, page: int = 1,
                  per_page: int = 50):
    stmt = sa.select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if actor_id:
        stmt = stmt.where(AuditLog.actor_id == actor_id)
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)))
