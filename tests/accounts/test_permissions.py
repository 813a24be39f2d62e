"""Pure account, messaging and moderation rules (no database needed beyond the personas)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_login import AnonymousUserMixin

from app.accounts.permissions import (
    can_grant_permission,
    can_manage_users,
    can_revoke_permission,
    can_suspend_user,
    can_view_admin,
    can_view_audit_log,
)
from app.errors import NotAllowed
from app.messaging.models import Notification
from app.messaging.permissions import can_read_notification
from app.moderation.permissions import can_moderate
from app.policy import predicates, require

ANONYMOUS = AnonymousUserMixin()


@pytest.fixture
def superuser2(make_user):
    return make_user(email="root2@example.test", permissions=("superuser",))


@pytest.fixture
def moderator(make_user):
    return make_user(email="mod@example.test", permissions=("moderate",))


def _suspend(db, user):
    user.suspended_at = datetime(2020, 1, 1, tzinfo=UTC)
    user.suspension_reason = "x"
    db.session.commit()


# --- can_manage_users, can_view_admin, can_view_audit_log ---------------------------------


def test_manage_users_needs_the_permission_or_superuser(learner, moderator, user_admin, admin):
    assert [can_manage_users(u) for u in (learner, moderator, user_admin, admin)] == \
        [False, False, True, True]


def test_nobody_signed_out_manages_users():
    assert not can_manage_users(None) and not can_manage_users(ANONYMOUS)


def test_suspended_admin_manages_nothing(db, user_admin):
    _suspend(db, user_admin)
    assert not can_manage_users(user_admin)
    assert not can_view_audit_log(user_admin)


def test_admin_area_is_for_anyone_with_a_permission(learner, moderator, user_admin):
    assert [can_view_admin(u) for u in (learner, moderator, user_admin, None, ANONYMOUS)] == \
        [False, True, True, False, False]


def test_audit_log_is_for_user_managers_and_superusers(learner, moderator, user_admin, admin):
    assert [can_view_audit_log(u) for u in (learner, moderator, user_admin, admin, None, ANONYMOUS)] \
        == [False, False, True, True, False, False]


def test_moderation_needs_the_moderate_permission(learner, moderator, user_admin, admin):
    assert [can_moderate(u) for u in (learner, moderator, user_admin, admin, None)] == \
        [False, True, False, True, False]


# --- can_suspend_user -------------------------------------------------------------------


def test_user_manager_may_suspend_an_ordinary_user(user_admin, learner):
    assert can_suspend_user(user_admin, learner)


def test_nobody_may_suspend_themselves(user_admin, admin):
    assert not can_suspend_user(user_admin, user_admin)
    assert not can_suspend_user(admin, admin)


def test_only_a_superuser_may_suspend_a_superuser(user_admin, admin, superuser2):
    assert not can_suspend_user(user_admin, admin)
    assert can_suspend_user(superuser2, admin)


def test_user_manager_may_suspend_another_user_manager(user_admin, make_user):
    other = make_user(permissions=("manage_users",))
    assert can_suspend_user(user_admin, other)


def test_without_manage_users_nobody_may_suspend(learner, moderator, creator):
    assert not can_suspend_user(learner, creator)
    assert not can_suspend_user(moderator, creator)
    assert not can_suspend_user(None, creator)
    assert not can_suspend_user(ANONYMOUS, creator)


def test_suspending_nobody_is_not_allowed(user_admin):
    assert not can_suspend_user(user_admin, None)


# --- can_grant_permission / can_revoke_permission -----------------------------------------


@pytest.mark.parametrize("rule", [can_grant_permission, can_revoke_permission])
def test_user_manager_may_change_ordinary_permissions(rule, user_admin, learner):
    for permission in ("review_courses", "manage_finance", "moderate", "manage_users"):
        assert rule(user_admin, learner, permission)


@pytest.mark.parametrize("rule", [can_grant_permission, can_revoke_permission])
def test_only_a_superuser_may_change_superuser(rule, user_admin, admin, learner):
    assert not rule(user_admin, learner, "superuser")
    assert rule(admin, learner, "superuser")


def test_superuser_may_not_revoke_their_own_superuser(admin):
    assert not can_revoke_permission(admin, admin, "superuser")


def test_superuser_may_revoke_another_superuser(admin, superuser2):
    assert can_revoke_permission(admin, superuser2, "superuser")


def test_user_manager_may_not_revoke_a_superusers_superuser(user_admin, admin):
    assert not can_revoke_permission(user_admin, admin, "superuser")


@pytest.mark.parametrize("rule", [can_grant_permission, can_revoke_permission])
def test_unknown_permission_is_never_allowed(rule, admin, learner):
    assert not rule(admin, learner, "root")
    assert not rule(admin, learner, "")


@pytest.mark.parametrize("rule", [can_grant_permission, can_revoke_permission])
def test_without_manage_users_nothing_may_be_changed(rule, learner, moderator, creator):
    assert not rule(learner, creator, "moderate")
    assert not rule(moderator, creator, "moderate")
    assert not rule(None, creator, "moderate")
    assert not rule(ANONYMOUS, creator, "moderate")


# --- can_read_notification ----------------------------------------------------------------


def test_only_the_recipient_may_read_a_notification(learner, creator, admin):
    note = Notification(user_id=learner.id, kind="welcome", data={})
    assert can_read_notification(learner, note)
    assert not can_read_notification(creator, note)
    assert not can_read_notification(admin, note)  # not even a superuser
    assert not can_read_notification(None, note)
    assert not can_read_notification(ANONYMOUS, note)


# --- the policy entry point ---------------------------------------------------------------


def test_require_raises_not_allowed_naming_the_action():
    require(True, "do it")
    with pytest.raises(NotAllowed, match="You are not allowed to suspend this user."):
        require(False, "suspend this user")


def test_every_predicate_is_available_to_templates(app):
    found = predicates()
    for name in ("can_manage_users", "can_suspend_user", "can_grant_permission",
                 "can_revoke_permission", "can_view_audit_log", "can_read_notification",
                 "can_moderate"):
        assert found[name] is app.jinja_env.globals[name]


def test_a_user_admin_cannot_raise_their_own_permissions(db, user_admin):

    for permission in ("manage_finance", "moderate", "review_courses"):
        assert not can_grant_permission(user_admin, user_admin, permission)


def test_a_user_admin_cannot_change_a_superusers_permissions(db, user_admin, admin):

    assert not can_revoke_permission(user_admin, admin, "moderate")
    assert not can_grant_permission(user_admin, admin, "moderate")
    assert can_grant_permission(admin, user_admin, "moderate")
