"""Money settings (app/commerce/settings.py): escrow, refund and payout policies and the
commission rate history, set by admins with `manage_finance`, validated, audited."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.commerce.models import CommissionRate, PlatformSetting
from app.commerce.settings import (
    DEFAULTS,
    commission_history,
    commission_rate_at,
    effective_from,
    get_setting,
    set_commission_rate,
    set_course_commission,
    set_setting,
)
from app.dbtypes import utcnow
from app.errors import Invalid, NotAllowed
from app.extensions import db
from app.moderation.models import AuditLog
from tests.support.commerce import paid_course


@pytest.fixture
def finance(make_user):
    return make_user(email="finance@example.test", permissions=("manage_finance",))


def audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def rates() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CommissionRate))


def test_defaults_until_an_admin_sets_something():
    assert get_setting("escrow") == {"mode": "completion_or_days", "days": 30}
    assert get_setting("refunds") == {"window_days": 30, "max_consumed_percent": 30}
    assert get_setting("payouts") == {"minimum_minor": 2000, "approval_threshold_minor": 100_000}


@pytest.mark.parametrize("key, value, stored", [
    ("escrow", {"mode": "days", "days": "14"}, {"mode": "days", "days": 14}),
    ("escrow", {"mode": "none"}, {"mode": "none", "days": 30}),
    ("refunds", {"window_days": 14, "max_consumed_percent": 0}, {"window_days": 14, "max_consumed_percent": 0}),
    ("payouts", {"minimum_minor": 1000, "approval_threshold_minor": 50_000},
     {"minimum_minor": 1000, "approval_threshold_minor": 50_000}),
])
def test_a_finance_admin_sets_a_policy_and_it_is_audited(finance, key, value, stored):
    assert set_setting(finance, key, dict(value)) == stored
    db.session.commit()
    assert get_setting(key) == stored
    [entry] = audit(f"setting.{key}.changed")
    assert entry.actor_id == finance.id and entry.before == DEFAULTS[key] and entry.after == stored


@pytest.mark.parametrize("key, value", [
    ("escrow", {"mode": "forever", "days": 30}),
    ("escrow", {"mode": "days", "days": -1}),
    ("escrow", {"mode": "days", "days": 366}),
    ("escrow", {"mode": "days", "days": "1.5"}),
    ("escrow", {"mode": "days", "days": "ten"}),
    ("escrow", {"mode": "days", "days": True}),
    ("refunds", {"window_days": 30, "max_consumed_percent": 101}),
    ("refunds", {"window_days": None, "max_consumed_percent": 30}),
    ("payouts", {"minimum_minor": 0, "approval_threshold_minor": 100}),
    ("payouts", {"minimum_minor": "-5", "approval_threshold_minor": 100}),
    ("payouts", {"minimum_minor": 2000}),
    ("nonsense", {"x": 1}),
])
def test_bad_policies_are_refused_and_nothing_is_stored(finance, key, value):
    with pytest.raises(Invalid):
        set_setting(finance, key, value)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlatformSetting)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_only_finance_admins_change_money_settings(make_user, creator):
    moderator = make_user(permissions=("moderate",))
    for someone in (moderator, creator, None):
        with pytest.raises(NotAllowed):
            set_setting(someone, "escrow", {"mode": "none", "days": 0})
        with pytest.raises(NotAllowed):
            set_commission_rate(someone, 1000, reason="cheaper")
    assert get_setting("escrow")["mode"] == "completion_or_days" and rates() == 0


# --- commission -----------------------------------------------------------------------------

def test_the_rate_history_is_kept_and_read_by_effective_date(finance):
    now = utcnow()
    assert commission_rate_at(now) == 1500  # the configured default
    set_commission_rate(finance, 1200, reason="promo", effective_at=now - timedelta(days=5), now=now)
    set_commission_rate(finance, "2000", reason="new year", effective_at=now + timedelta(days=5), now=now)
    assert commission_rate_at(now - timedelta(days=6)) == 1500
    assert commission_rate_at(now) == 1200
    assert commission_rate_at(now + timedelta(days=5)) == 2000
    assert [r.rate_bps for r in commission_history()] == [2000, 1200]
    [first, second] = audit("commission.rate_set")
    assert (first.before, first.after["rate_bps"]) == ({"rate_bps": 1500}, 1200)
    assert second.before == {"rate_bps": 1200} and second.reason == "new year"


def test_a_later_change_for_the_same_date_wins(finance):
    when = utcnow() - timedelta(days=1)
    set_commission_rate(finance, 1000, reason="first", effective_at=when)
    set_commission_rate(finance, 1100, reason="typo fixed", effective_at=when)
    assert commission_rate_at() == 1100
    assert rates() == 2


@pytest.mark.parametrize("rate", [-1, 10001, "15%", "1500.5", "", None, 1500.5, True])
def test_a_rate_outside_0_to_10000_basis_points_is_refused(finance, rate):
    with pytest.raises(Invalid):
        set_commission_rate(finance, rate, reason="test")
    assert rates() == 0 and audit("commission.rate_set") == []


@pytest.mark.parametrize("rate", [0, 10000, "0", " 750 "])
def test_the_ends_of_the_range_are_allowed(finance, rate):
    assert 0 <= set_commission_rate(finance, rate, reason="edge").rate_bps <= 10000


def test_a_rate_change_needs_a_reason(finance):
    with pytest.raises(Invalid):
        set_commission_rate(finance, 1000, reason="  ")
    assert rates() == 0


def test_a_course_override_is_set_removed_and_audited(finance, creator):
    course = paid_course(creator)
    set_course_commission(finance, course, "500", reason="partner")
    assert course.commission_bps_override == 500
    set_course_commission(finance, course, "", reason="partnership over")
    assert course.commission_bps_override is None
    set_course_commission(finance, course, 0, reason="charity")
    assert course.commission_bps_override == 0
    entries = audit("commission.course_override")
    assert [(e.before["rate_bps"], e.after["rate_bps"]) for e in entries] == [(None, 500), (500, None), (None, 0)]
    with pytest.raises(Invalid):
        set_course_commission(finance, course, 10001, reason="too much")
    with pytest.raises(NotAllowed):
        set_course_commission(creator, course, 0, reason="my own course, my rules")
    assert course.commission_bps_override == 0


def test_a_rate_from_a_day_applies_from_its_first_moment_in_utc():
    assert effective_from(date(2025, 3, 1)) == datetime(2025, 3, 1, tzinfo=UTC)
