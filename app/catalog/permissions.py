"""Pure course rules. `can_view_lesson` is the one lesson-access rule: the learning issue
extends it through the `enrolled` argument that its caller computes, never by a copy."""
from __future__ import annotations


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _owns(actor, course) -> bool:
    return _signed_in(actor) and course is not None and course.creator_id == actor.id


def can_create_course(actor) -> bool:
    return _signed_in(actor) and not actor.is_suspended()


def can_edit_course(actor, course) -> bool:
    """Only the creator edits a course's content — never another creator, never an admin."""
    return _owns(actor, course) and not actor.is_suspended()


def can_review_course(actor, course) -> bool:
    return _signed_in(actor) and actor.has_permission("review_courses") and not _owns(actor, course)


def can_preview_course(actor, course) -> bool:
    """See every lesson of a course that is not public (yet): its creator and reviewers."""
    return _owns(actor, course) or (_signed_in(actor) and actor.has_permission("review_courses"))


def can_unpublish_course(actor, course) -> bool:
    return _owns(actor, course) or (_signed_in(actor) and actor.has_permission("review_courses"))


def can_view_lesson(actor, lesson, *, enrolled: bool = False) -> bool:
    course = lesson.course
    if can_preview_course(actor, course):
        return True
    if lesson.is_free_preview and course.status == "published":
        return True
    return enrolled


def can_manage_categories(actor) -> bool:
    return _signed_in(actor) and actor.has_permission("review_courses")
