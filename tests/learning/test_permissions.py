"""The pure learning rules (app/learning/permissions.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.learning import permissions as p
from app.moderation.suspensions import suspend_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(creator):
    return SimpleNamespace(creator_id=creator.id)


@pytest.fixture
def suspended(db, make_user, admin):
    user = make_user(password=None)
    suspend_user(admin, user, reason="abuse")
    return user


def post_by(user, *, created_at=T0, deleted_at=None):
    return SimpleNamespace(author_id=user.id, created_at=created_at, deleted_at=deleted_at)


def test_enrolling_is_for_signed_in_active_people_other_than_the_creator(
        creator, learner, anonymous, suspended, course):
    assert p.can_enroll(learner, course)
    assert not p.can_enroll(creator, course)
    assert not p.can_enroll(anonymous, course)
    assert not p.can_enroll(None, course)
    assert not p.can_enroll(suspended, course)


def test_granting_needs_manage_users(make_user, learner, admin, anonymous):
    assert p.can_grant_enrollment(make_user(password=None, permissions=("manage_users",)))
    assert p.can_grant_enrollment(admin)  # superuser
    for who in (learner, make_user(password=None, permissions=("moderate",)), anonymous, None):
        assert not p.can_grant_enrollment(who)


def test_discussion_membership(creator, learner, moderator, anonymous, suspended, course):
    assert p.can_join_discussion(learner, course, enrolled=True)
    assert p.can_join_discussion(creator, course, enrolled=False)
    assert p.can_join_discussion(moderator, course, enrolled=False)
    assert not p.can_join_discussion(learner, course, enrolled=False)
    assert not p.can_join_discussion(anonymous, course, enrolled=True)
    assert not p.can_join_discussion(suspended, course, enrolled=True)


def test_the_edit_window_is_fifteen_minutes_inclusive(learner):
    post = post_by(learner)
    assert p.can_edit_post(learner, post, T0)
    assert p.can_edit_post(learner, post, T0 + timedelta(minutes=15))
    assert not p.can_edit_post(learner, post, T0 + timedelta(minutes=15, seconds=1))


def test_only_the_author_edits_a_live_post(learner, moderator, anonymous):
    assert not p.can_edit_post(moderator, post_by(learner), T0)
    assert not p.can_edit_post(anonymous, post_by(learner), T0)
    assert not p.can_edit_post(learner, post_by(learner, deleted_at=T0), T0)


def test_the_author_or_a_moderator_deletes_a_live_post(learner, creator, moderator):
    assert p.can_delete_post(learner, post_by(learner))
    assert p.can_delete_post(moderator, post_by(learner))
    assert not p.can_delete_post(creator, post_by(learner))
    assert not p.can_delete_post(moderator, post_by(learner, deleted_at=T0))


def test_only_the_courses_creator_marks_answers(creator, learner, moderator, course):
    thread = SimpleNamespace(course=course)
    assert p.can_mark_answer(creator, thread)
    assert not p.can_mark_answer(learner, thread)
    assert not p.can_mark_answer(moderator, thread)


def test_enrolled_learners_vote_on_others_live_posts(make_user, learner, suspended):
    other = make_user(password=None)
    assert p.can_vote_post(other, post_by(learner), enrolled=True)
    assert not p.can_vote_post(other, post_by(learner), enrolled=False)
    assert not p.can_vote_post(learner, post_by(learner), enrolled=True)
    assert not p.can_vote_post(other, post_by(learner, deleted_at=T0), enrolled=True)
    assert not p.can_vote_post(suspended, post_by(learner), enrolled=True)


def test_enrolled_learners_but_never_the_creator_rate(creator, learner, suspended, course):
    assert p.can_rate_course(learner, course, enrolled=True)
    assert not p.can_rate_course(learner, course, enrolled=False)
    assert not p.can_rate_course(creator, course, enrolled=True)
    assert not p.can_rate_course(suspended, course, enrolled=True)


def test_the_creator_replies_to_a_review_once(creator, learner, course):
    fresh = SimpleNamespace(course=course, reply=None)
    answered = SimpleNamespace(course=course, reply="Thanks")
    assert p.can_reply_to_review(creator, fresh)
    assert not p.can_reply_to_review(creator, answered)
    assert not p.can_reply_to_review(learner, fresh)
