"""Suspending and reinstating users (permission `manage_users`, audited)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.accounts.events import UserSuspended, UserUnsuspended
from app.accounts.models import User
from app.accounts.permissions import can_suspend_user
from app.accounts.sessions import end_all_sessions
from app.dbtypes import utcnow
from app.errors import Invalid
from app.events import emit
from app.moderation.audit import record_audit
from app.policy import require


def _state(user: User) -> dict:
    return {"suspended_at": user.suspended_at.isoformat() if user.suspended_at else None,
            "suspended_until": user.suspended_until.isoformat() if user.suspended_until else None,
            "reason": user.suspension_reason}


def until_end_of(day: date) -> datetime:
    """A suspension "until" a day lasts through the whole of that day (UTC)."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def suspend_user(actor: User, target: User, *, reason: str, until: datetime | None = None,
                 now: datetime | None = None, ip: str | None = None) -> User:
    """Lock `target` out: every session of theirs ends now and log-in is refused."""
    require(can_suspend_user(actor, target), "suspend this user")
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give a reason; the user will see it.", field="reason")
    if until is not None and until <= now:
        raise Invalid("The end date must be in the future.", field="until")
    before = _state(target)
    target.suspended_at, target.suspended_until, target.suspension_reason = now, until, reason
    end_all_sessions(target)
    record_audit(actor, "user.suspended", target, before=before, after=_state(target),
                 reason=reason, ip=ip)
    emit(UserSuspended(user_id=target.id))
    return target


def unsuspend_user(actor: User, target: User, *, ip: str | None = None) -> User:
    require(can_suspend_user(actor, target), "reinstate this user")
    if target.suspended_at is None:
        return target
    before = _state(target)
    target.suspended_at = target.suspended_until = target.suspension_reason = None
    record_audit(actor, "user.unsuspended", target, before=before, after=_state(target), ip=ip)
    emit(UserUnsuspended(user_id=target.id))
    return target
