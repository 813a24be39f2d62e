"""Suspending and reinstating users (app/moderation/suspensions.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.auth import authenticate
from app.accounts.errors import AccountSuspended
from app.errors import Invalid, NotAllowed
from app.moderation.models import AuditLog
from app.moderation.suspensions import suspend_user, unsuspend_user, until_end_of
from tests.factories import PASSWORD

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def _audit(db) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)))


def test_suspension_locks_the_user_out(db, user_admin, learner):
    suspend_user(user_admin, learner, reason="Spam in chat", now=NOW)
    db.session.commit()
    assert learner.is_suspended(NOW)
    assert (learner.suspended_at, learner.suspended_until, learner.suspension_reason) == \
        (NOW, None, "Spam in chat")
    with pytest.raises(AccountSuspended, match="Spam in chat"):
        authenticate(email=learner.email, password=PASSWORD, now=NOW)


def test_suspension_ends_every_session(db, user_admin, learner, open_session, signed_in_as, emitted):
    tokens = [open_session(learner), open_session(learner, remembered=True)]
    suspend_user(user_admin, learner, reason="Spam")
    db.session.commit()
    assert [signed_in_as(token) for token in tokens] == [None, None]
    assert [e.payload for e in emitted if e.name == "accounts.sessions.revoked"] == \
        [{"user_id": learner.id, "session_ids": None}]


def test_suspension_until_a_date_ends_by_itself(db, user_admin, learner):
    until = NOW + timedelta(days=7)
    suspend_user(user_admin, learner, reason="Cool off", until=until, now=NOW)
    db.session.commit()
    assert learner.is_suspended(until - timedelta(seconds=1))
    assert not learner.is_suspended(until)


def test_suspension_is_audited_with_ip_and_states(db, user_admin, learner):
    until = NOW + timedelta(days=7)
    suspend_user(user_admin, learner, reason="  Spam  ", until=until, now=NOW, ip="203.0.113.5")
    db.session.commit()
    [entry] = _audit(db)
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == \
        ("user.suspended", user_admin.id, "user", learner.id)
    assert (entry.reason, entry.ip, entry.target_label) == ("Spam", "203.0.113.5", learner.email)
    assert entry.before == {"suspended_at": None, "suspended_until": None, "reason": None}
    assert entry.after == {"suspended_at": NOW.isoformat(), "suspended_until": until.isoformat(),
                           "reason": "Spam"}


def test_suspension_is_emitted_after_commit(db, user_admin, learner, emitted):
    suspend_user(user_admin, learner, reason="Spam")
    assert emitted == []
    db.session.commit()
    assert [(e.name, e.payload) for e in emitted] == [
        ("accounts.sessions.revoked", {"user_id": learner.id, "session_ids": None}),
        ("accounts.user.suspended", {"user_id": learner.id})]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reason_is_required(db, user_admin, learner, reason, emitted):
    with pytest.raises(Invalid) as caught:
        suspend_user(user_admin, learner, reason=reason)
    assert caught.value.field == "reason"
    db.session.commit()
    assert not learner.is_suspended() and _audit(db) == [] and emitted == []


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(days=1)])
def test_end_date_must_be_in_the_future(db, user_admin, learner, until):
    with pytest.raises(Invalid) as caught:
        suspend_user(user_admin, learner, reason="Spam", until=until, now=NOW)
    assert caught.value.field == "until"
    assert learner.suspended_at is None


def test_without_manage_users_suspending_is_not_allowed(db, make_user, learner, creator):
    moderator = make_user(permissions=("moderate",))
    for actor in (creator, moderator):
        with pytest.raises(NotAllowed, match="suspend this user"):
            suspend_user(actor, learner, reason="Spam")
    db.session.commit()
    assert learner.suspended_at is None and _audit(db) == []


def test_nobody_may_suspend_themselves(db, user_admin):
    with pytest.raises(NotAllowed):
        suspend_user(user_admin, user_admin, reason="Oops")


def test_user_manager_may_not_suspend_a_superuser(db, user_admin, admin):
    with pytest.raises(NotAllowed):
        suspend_user(user_admin, admin, reason="Power grab")
    assert admin.suspended_at is None


def test_superuser_may_suspend_a_user_manager(db, admin, user_admin):
    suspend_user(admin, user_admin, reason="Abuse")
    db.session.commit()
    assert user_admin.is_suspended()


def test_unsuspend_reinstates_the_user(db, user_admin, learner, emitted):
    suspend_user(user_admin, learner, reason="Spam", now=NOW)
    db.session.commit()
    unsuspend_user(user_admin, learner, ip="203.0.113.5")
    db.session.commit()
    assert not learner.is_suspended()
    assert authenticate(email=learner.email, password=PASSWORD) is learner
    entry = _audit(db)[-1]
    assert (entry.action, entry.ip) == ("user.unsuspended", "203.0.113.5")
    assert entry.before["reason"] == "Spam" and entry.after == {
        "suspended_at": None, "suspended_until": None, "reason": None}
    assert [e.name for e in emitted] == ["accounts.sessions.revoked", "accounts.user.suspended",
                                         "accounts.user.unsuspended"]


def test_unsuspending_someone_not_suspended_changes_nothing(db, user_admin, learner, emitted):
    unsuspend_user(user_admin, learner)
    db.session.commit()
    assert _audit(db) == [] and emitted == []


def test_without_manage_users_unsuspending_is_not_allowed(db, user_admin, learner, creator):
    suspend_user(user_admin, learner, reason="Spam")
    db.session.commit()
    with pytest.raises(NotAllowed, match="reinstate this user"):
        unsuspend_user(creator, learner)
    assert learner.is_suspended()


def test_suspended_admin_can_no_longer_suspend(db, admin, user_admin, learner):
    suspend_user(admin, user_admin, reason="Abuse")
    db.session.commit()
    with pytest.raises(NotAllowed):
        suspend_user(user_admin, learner, reason="Revenge")


def test_until_a_day_means_through_the_whole_of_it_in_utc():
    end = until_end_of(date(2025, 3, 1))
    assert end == datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert end < datetime(2025, 3, 2, tzinfo=UTC)
