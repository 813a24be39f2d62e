"""Pure learning rules. Whether someone is enrolled is looked up by the caller and passed in."""
from __future__ import annotations

from datetime import datetime, timedelta

EDIT_WINDOW = timedelta(minutes=15)


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _owns(actor, course) -> bool:
    return _signed_in(actor) and course.creator_id == actor.id


def can_enroll(actor, course) -> bool:
    return _signed_in(actor) and not actor.is_suspended() and not _owns(actor, course)


def can_grant_enrollment(actor) -> bool:
    return _signed_in(actor) and actor.has_permission("manage_users")


def can_join_discussion(actor, course, *, enrolled: bool) -> bool:
    """Enrolled learners, the course's creator and moderators."""
    if not _signed_in(actor) or actor.is_suspended():
        return False
    return enrolled or _owns(actor, course) or actor.has_permission("moderate")


def can_edit_post(actor, post, now: datetime) -> bool:
    return (_signed_in(actor) and post.author_id == actor.id and post.deleted_at is None
            and now - post.created_at <= EDIT_WINDOW)


def can_delete_post(actor, post) -> bool:
    return _signed_in(actor) and post.deleted_at is None and (
        post.author_id == actor.id or actor.has_permission("moderate"))


def can_mark_answer(actor, thread) -> bool:
    return _owns(actor, thread.course)


def can_vote_post(actor, post, *, enrolled: bool) -> bool:
    return _signed_in(actor) and enrolled and post.author_id != actor.id and post.deleted_at is None


def can_rate_course(actor, course, *, enrolled: bool) -> bool:
    """Enrolled learners review a course; its creator never reviews their own."""
    return _signed_in(actor) and enrolled and not _owns(actor, course) and not actor.is_suspended()


def can_delete_review(actor, review) -> bool:
    """A learner takes their own review back (even after losing access to the course)."""
    return _signed_in(actor) and review.learner_id == actor.id


def can_remove_review(actor, review) -> bool:
    """Moderators remove a review that breaks the rules (through the moderation queue)."""
    return _signed_in(actor) and actor.has_permission("moderate")


def can_reply_to_review(actor, review) -> bool:
    return _owns(actor, review.course) and review.reply is None
