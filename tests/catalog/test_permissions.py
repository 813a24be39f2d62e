"""Pure course rules (app/catalog/permissions.py): who may see, edit, review, unpublish."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.catalog import structure
from app.catalog.permissions import (
    can_create_course,
    can_edit_course,
    can_preview_course,
    can_review_course,
    can_unpublish_course,
    can_view_lesson,
)

PERSONAS = ("anonymous", "nobody", "learner", "other_creator", "owner", "reviewer", "admin")


@pytest.fixture
def people(creator, learner, reviewer, admin, make_user, anonymous):
    return {"anonymous": anonymous, "nobody": None, "learner": learner,
            "other_creator": make_user(display_name="Other Creator"), "owner": creator,
            "reviewer": reviewer, "admin": admin}


@pytest.fixture
def lessons(db, creator, make_course):
    """`lessons[status][free_preview]`: a lesson of a paid course in each state."""
    found = {}
    for status in ("draft", "under_review", "published", "unpublished"):
        course = make_course(creator, price_minor=1999)  # built as a draft, then moved on
        section = structure.add_section(creator, course, title="S")
        found[status] = {}
        for free in (True, False):
            lesson = structure.add_lesson(creator, section, title=f"free={free}", kind="text")
            structure.update_lesson(creator, lesson, is_free_preview=free)
            found[status][free] = lesson
        course.status = status
    db.session.commit()
    return found


# Who sees a lesson, without enrolment. Creator and reviewers see everything; anyone sees a
# free-preview lesson of a published course; nobody else sees anything.
SEES_EVERYTHING = {"owner", "reviewer", "admin"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("status", ["draft", "under_review", "published", "unpublished"])
@pytest.mark.parametrize("free", [True, False])
def test_lesson_access_matrix(people, lessons, persona, status, free):
    lesson = lessons[status][free]
    expected = persona in SEES_EVERYTHING or (free and status == "published")
    assert can_view_lesson(people[persona], lesson) is expected


@pytest.mark.parametrize("persona", ["anonymous", "learner", "other_creator"])
@pytest.mark.parametrize("status", ["published", "unpublished"])
def test_the_enrolled_see_every_lesson_even_after_unpublishing(people, lessons, persona, status):
    lesson = lessons[status][False]
    assert can_view_lesson(people[persona], lesson) is False
    assert can_view_lesson(people[persona], lesson, enrolled=True) is True


@pytest.mark.parametrize("persona, expected", [
    ("anonymous", False), ("nobody", False), ("learner", False), ("other_creator", False),
    ("owner", True), ("reviewer", False), ("admin", False),
])
def test_only_the_creator_edits_a_course(people, make_course, creator, persona, expected):
    course = make_course(creator)
    assert can_edit_course(people[persona], course) is expected


def test_a_suspended_creator_edits_nothing(creator, make_course):
    course = make_course(creator)
    creator.suspended_at = datetime(2025, 1, 1, tzinfo=UTC)
    assert can_edit_course(creator, course) is False
    assert can_create_course(creator) is False


def test_a_suspension_that_ended_no_longer_blocks(creator, make_course):
    course = make_course(creator)
    creator.suspended_at = datetime(2025, 1, 1, tzinfo=UTC)
    creator.suspended_until = datetime(2025, 1, 2, tzinfo=UTC)
    assert can_edit_course(creator, course) is True


@pytest.mark.parametrize("persona, expected", [
    ("anonymous", False), ("nobody", False), ("learner", True), ("other_creator", True),
    ("owner", True), ("reviewer", True), ("admin", True),
])
def test_any_signed_in_user_may_create_a_course(people, persona, expected):
    assert can_create_course(people[persona]) is expected


@pytest.mark.parametrize("persona, expected", [
    ("anonymous", False), ("nobody", False), ("learner", False), ("other_creator", False),
    ("owner", False), ("reviewer", True), ("admin", True),
])
def test_reviewers_review_other_peoples_courses(people, make_course, creator, persona, expected):
    course = make_course(creator, status="under_review")
    assert can_review_course(people[persona], course) is expected


def test_a_reviewer_cannot_review_their_own_course(reviewer, admin, make_course):
    assert can_review_course(reviewer, make_course(reviewer)) is False
    assert can_review_course(admin, make_course(admin)) is False


@pytest.mark.parametrize("persona, expected", [
    ("anonymous", False), ("nobody", False), ("learner", False), ("other_creator", False),
    ("owner", True), ("reviewer", True), ("admin", True),
])
def test_the_creator_and_reviewers_preview_and_unpublish(people, make_course, creator, persona,
                                                        expected):
    course = make_course(creator, status="published")
    assert can_preview_course(people[persona], course) is expected
    assert can_unpublish_course(people[persona], course) is expected


def test_a_user_admin_without_review_rights_cannot_preview_or_unpublish(user_admin, make_course):
    course = make_course(status="published")
    assert can_preview_course(user_admin, course) is False
    assert can_unpublish_course(user_admin, course) is False
    assert can_review_course(user_admin, course) is False
