"""Money policies an admin with `manage_finance` sets: defaults here, overrides stored in
`platform_setting`, every change audited. The commission rate has its own history."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from flask import current_app

from app.commerce.models import CommissionRate, PlatformSetting
from app.dbtypes import utcnow
from app.errors import Invalid
from app.extensions import db
from app.moderation.audit import record_audit
from app.policy import require

DEFAULTS = {
    # Release escrow on the learner's completion or after N days, whichever first; or
    # after N days only; or no escrow at all.
    "escrow": {"mode": "completion_or_days", "days": 30},
    "refunds": {"window_days": 30, "max_consumed_percent": 30},
    "payouts": {"minimum_minor": 2000, "approval_threshold_minor": 100_000},
}
ESCROW_MODES = ("completion_or_days", "days", "none")


def can_manage_finance(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) \
        and actor.has_permission("manage_finance")


def get_setting(key: str) -> dict:
    row = db.session.get(PlatformSetting, key)
    return {**DEFAULTS[key], **(row.value if row else {})}


def set_setting(actor, key: str, value: dict, *, ip: str | None = None) -> dict:
    require(can_manage_finance(actor), "change money settings")
    if key not in DEFAULTS:
        raise Invalid(f"Unknown setting {key!r}.")
    before = get_setting(key)
    _validate(key, value)
    row = db.session.get(PlatformSetting, key)
    if row is None:
        row = PlatformSetting(key=key, value={})
        db.session.add(row)
    row.value, row.updated_at, row.updated_by_id = {**before, **value}, utcnow(), actor.id
    record_audit(actor, f"setting.{key}.changed", row, before=before, after=row.value, ip=ip)
    return row.value


def _whole(value, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a whole number.", field=name) from None
    if str(value).strip() not in (str(number),) or not low <= number <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}.", field=name)
    return number


def _validate(key: str, value: dict) -> None:
    if key == "escrow":
        if value.get("mode") not in ESCROW_MODES:
            raise Invalid("Choose an escrow policy from the list.", field="mode")
        value["days"] = _whole(value.get("days", 30), "days", 0, 365)
    elif key == "refunds":
        value["window_days"] = _whole(value.get("window_days"), "window_days", 0, 365)
        value["max_consumed_percent"] = _whole(value.get("max_consumed_percent"),
                                               "max_consumed_percent", 0, 100)
    elif key == "payouts":
        value["minimum_minor"] = _whole(value.get("minimum_minor"), "minimum_minor", 1, 10**9)
        value["approval_threshold_minor"] = _whole(value.get("approval_threshold_minor"),
                                                   "approval_threshold_minor", 1, 10**12)
    else:
        raise Invalid(f"Unknown setting {key!r}.")


# --- commission ------------------------------------------------------------------------

def commission_rate_at(now: datetime | None = None) -> int:
    """The global rate in force at `now` (the configured default until an admin sets one)."""
    rate = db.session.scalar(sa.select(CommissionRate.rate_bps)
                             .where(CommissionRate.effective_at <= (now or utcnow()))
                             .order_by(CommissionRate.effective_at.desc(), CommissionRate.id.desc())
                             .limit(1))
    return rate if rate is not None else current_app.config["DEFAULT_COMMISSION_BPS"]


def effective_from(day: date) -> datetime:
    """A rate set "from" a day applies from the start of that day (UTC)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def set_commission_rate(actor, rate_bps, *, reason: str, effective_at: datetime | None = None,
                        ip: str | None = None, now: datetime | None = None) -> CommissionRate:
    require(can_manage_finance(actor), "set the commission")
    rate = _whole(rate_bps, "rate_bps", 0, 10000)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the rate changes (it is kept in the history).", field="reason")
    now = now or utcnow()
    effective_at = effective_at or now
    before = commission_rate_at(now)
    entry = CommissionRate(rate_bps=rate, effective_at=effective_at, reason=reason,
                           set_by_id=actor.id, created_at=now)
    db.session.add(entry)
    db.session.flush()
    record_audit(actor, "commission.rate_set", entry, before={"rate_bps": before},
                 after={"rate_bps": rate, "effective_at": effective_at.isoformat()}, reason=reason, ip=ip)
    return entry


def commission_history() -> list[CommissionRate]:
    return list(db.session.scalars(sa.select(CommissionRate)
                                   .order_by(CommissionRate.effective_at.desc(), CommissionRate.id.desc())))


def set_course_commission(actor, course, rate_bps, *, reason: str, ip: str | None = None):
    """A per-course override (None or '' removes it)."""
    require(can_manage_finance(actor), "set a course's commission")
    before = course.commission_bps_override
    course.commission_bps_override = None if rate_bps in (None, "") else _whole(rate_bps, "rate_bps", 0, 10000)
    record_audit(actor, "commission.course_override", course, before={"rate_bps": before},
                 after={"rate_bps": course.commission_bps_override}, reason=reason or "", ip=ip)
    return course
