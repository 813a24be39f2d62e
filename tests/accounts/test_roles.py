"""Granting and revoking admin permissions (app/accounts/roles.py): audited and notified."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import AdminPermission
from app.accounts.roles import grant_permission, revoke_permission
from app.errors import Invalid, NotAllowed
from app.messaging.models import Notification
from app.moderation.models import AuditLog


def _audit(db, action=None) -> list[AuditLog]:
    stmt = sa.select(AuditLog).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(db.session.scalars(stmt))


def _notes(db, user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def test_grant_gives_the_permission(db, user_admin, learner):
    grant_permission(user_admin, learner, "moderate")
    db.session.commit()
    assert learner.permissions == {"moderate"}
    grant = db.session.scalar(sa.select(AdminPermission).where(AdminPermission.user_id == learner.id))
    assert grant.granted_by_id == user_admin.id


def test_grant_is_audited_with_before_and_after(db, user_admin, learner):
    grant_permission(user_admin, learner, "review_courses")
    db.session.commit()
    grant_permission(user_admin, learner, "moderate", ip="203.0.113.9")
    db.session.commit()
    entry = _audit(db, "user.permission_granted")[-1]
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.target_label) == \
        (user_admin.id, "user", learner.id, learner.email)
    assert entry.before == {"permissions": ["review_courses"]}
    assert entry.after == {"permissions": ["moderate", "review_courses"]}
    assert entry.ip == "203.0.113.9"


def test_grant_notifies_the_user(db, user_admin, learner, emitted):
    grant_permission(user_admin, learner, "moderate")
    db.session.commit()
    [note] = _notes(db, learner)
    assert (note.kind, note.data) == ("admin.permissions_changed", {"permissions": ["moderate"]})
    assert {"notification_id": note.id, "user_id": learner.id} in \
        [e.payload for e in emitted if e.name == "messaging.notification.created"]


def test_granting_a_held_permission_changes_nothing(db, user_admin, learner):
    grant_permission(user_admin, learner, "moderate")
    db.session.commit()
    grant_permission(user_admin, learner, "moderate")
    db.session.commit()
    assert len(_audit(db, "user.permission_granted")) == 1
    assert len(_notes(db, learner)) == 1


def test_grant_without_manage_users_is_not_allowed(db, learner, creator):
    moderator = creator
    with pytest.raises(NotAllowed, match="grant moderate"):
        grant_permission(learner, moderator, "moderate")
    db.session.commit()
    assert moderator.permissions == frozenset()
    assert _audit(db) == []


def test_user_manager_may_not_grant_superuser(db, user_admin, learner):
    with pytest.raises(NotAllowed):
        grant_permission(user_admin, learner, "superuser")
    assert learner.permissions == frozenset()


def test_superuser_may_grant_superuser(db, admin, learner):
    grant_permission(admin, learner, "superuser")
    db.session.commit()
    assert learner.has_permission("manage_finance")


def test_unknown_permission_is_invalid(db, admin, learner):
    with pytest.raises(Invalid, match="Unknown permission 'root'"):
        grant_permission(admin, learner, "root")
    with pytest.raises(Invalid):
        revoke_permission(admin, learner, "root")
    assert _audit(db) == []


def test_system_grant_needs_no_actor_and_is_audited(db, learner):
    grant_permission(None, learner, "superuser", system=True)
    db.session.commit()
    [entry] = _audit(db)
    assert entry.actor_id is None and entry.after == {"permissions": ["superuser"]}


def test_revoke_takes_the_permission_away(db, user_admin, make_user):
    moderator = make_user(permissions=("moderate", "review_courses"))
    revoke_permission(user_admin, moderator, "moderate", ip="198.51.100.7")
    db.session.commit()
    assert moderator.permissions == {"review_courses"}
    [entry] = _audit(db, "user.permission_revoked")
    assert entry.before == {"permissions": ["moderate", "review_courses"]}
    assert entry.after == {"permissions": ["review_courses"]}
    assert (entry.actor_id, entry.ip) == (user_admin.id, "198.51.100.7")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminPermission)
                             .where(AdminPermission.user_id == moderator.id)) == 1


def test_revoke_notifies_the_user(db, user_admin, make_user):
    moderator = make_user(permissions=("moderate",))
    revoke_permission(user_admin, moderator, "moderate")
    db.session.commit()
    assert [(n.kind, n.data) for n in _notes(db, moderator)] == \
        [("admin.permissions_changed", {"permissions": []})]


def test_revoking_a_permission_not_held_changes_nothing(db, user_admin, learner):
    revoke_permission(user_admin, learner, "moderate")
    db.session.commit()
    assert _audit(db) == [] and _notes(db, learner) == []


def test_revoke_without_manage_users_is_not_allowed(db, make_user, learner):
    moderator = make_user(permissions=("moderate",))
    with pytest.raises(NotAllowed, match="revoke moderate"):
        revoke_permission(learner, moderator, "moderate")
    assert moderator.permissions == {"moderate"}


def test_superuser_may_not_revoke_their_own_superuser(db, admin):
    with pytest.raises(NotAllowed):
        revoke_permission(admin, admin, "superuser")
    assert admin.permissions == {"superuser"}


def test_user_manager_may_not_revoke_superuser(db, user_admin, admin):
    with pytest.raises(NotAllowed):
        revoke_permission(user_admin, admin, "superuser")
    assert admin.permissions == {"superuser"}
