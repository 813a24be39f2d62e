"""Creating a course, editing its details and its price (app/catalog/courses.py)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.catalog.courses import (
    create_course,
    delete_course,
    set_price,
    update_course_field,
)
from app.catalog.errors import CourseLocked, IllegalTransition
from app.catalog.models import Course
from app.catalog.queries import categories
from app.errors import Invalid, NotAllowed

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def category_id(db):
    return categories()[0].id


def _stored(db, course_id: int) -> Course:
    """The course as the database has it (after the test's in-memory changes are dropped)."""
    db.session.rollback()
    return db.session.get(Course, course_id)


# --- create_course -----------------------------------------------------------------------

def test_first_course_needs_the_creator_terms(db, creator, category_id):
    with pytest.raises(Invalid) as exc:
        create_course(creator, title="SQL", category_id=category_id)
    assert exc.value.field == "accept_terms"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    assert creator.creator_terms_accepted_at is None


def test_accepted_terms_are_remembered_for_the_next_course(db, creator, category_id):
    create_course(creator, title="SQL", category_id=category_id, accept_terms=True, now=NOW)
    second = create_course(creator, title="More SQL", category_id=category_id)
    assert creator.creator_terms_accepted_at == NOW
    assert second.status == "draft" and second.creator_id == creator.id


def test_a_new_course_is_a_free_draft_in_the_default_currency(db, creator, category_id):
    course = create_course(creator, title="  Practical   SQL ", category_id=str(category_id),
                           accept_terms=True)
    assert (course.title, course.slug, course.status) == ("Practical SQL", "practical-sql", "draft")
    assert course.price_minor == 0 and course.is_free and course.currency == "USD"
    assert course.category_id == category_id


@pytest.mark.parametrize("title", ["", "   ", "x" * 300, "x" * 121])
def test_empty_or_overlong_title_is_refused(db, creator, category_id, title):
    with pytest.raises(Invalid) as exc:
        create_course(creator, title=title, category_id=category_id, accept_terms=True)
    assert exc.value.field == "title"
    assert creator.creator_terms_accepted_at is None  # nothing half-done


def test_a_title_of_exactly_the_limit_is_fine(db, creator, category_id):
    assert len(create_course(creator, title="x" * 120, category_id=category_id,
                             accept_terms=True).title) == 120


@pytest.mark.parametrize("category", [None, "", "abc", 999_999, "-1"])
def test_unknown_category_is_refused(db, creator, category):
    with pytest.raises(Invalid) as exc:
        create_course(creator, title="SQL", category_id=category, accept_terms=True)
    assert exc.value.field == "category_id"


def test_equal_titles_get_different_slugs(db, creator, make_user, category_id):
    first = create_course(creator, title="Python!", category_id=category_id, accept_terms=True)
    second = create_course(creator, title="python", category_id=category_id)
    third = create_course(make_user(), title="PYTHON", category_id=category_id, accept_terms=True)
    assert first.slug == "python"
    assert len({first.slug, second.slug, third.slug}) == 3
    assert all(c.slug.startswith("python-") for c in (second, third))


def test_a_title_without_latin_letters_still_gets_a_slug(db, creator, category_id):
    assert create_course(creator, title="日本語", category_id=category_id,
                         accept_terms=True).slug == "course"


def test_a_suspended_user_cannot_create_a_course(db, make_user, category_id):
    suspended = make_user(suspended_at=NOW, suspension_reason="spam")
    with pytest.raises(NotAllowed):
        create_course(suspended, title="SQL", category_id=category_id, accept_terms=True)


def test_anonymous_cannot_create_a_course(db, category_id):
    with pytest.raises(NotAllowed):
        create_course(None, title="SQL", category_id=category_id, accept_terms=True)


# --- update_course_field -----------------------------------------------------------------

@pytest.mark.parametrize("field, value, expected", [
    ("title", "  A   better title ", "A better title"),
    ("subtitle", " Learn  fast ", "Learn fast"),
    ("subtitle", "", ""),
    ("description", "  **Markdown** body\n\n", "**Markdown** body"),
    ("level", "advanced", "advanced"),
    ("language", "de", "de"),
])
def test_each_detail_can_be_edited(db, creator, make_course, field, value, expected):
    course = make_course(creator)
    update_course_field(creator, course, field, value)
    db.session.commit()
    assert getattr(db.session.get(Course, course.id), field) == expected


def test_the_category_can_be_changed(db, creator, make_course):
    course = make_course(creator)
    other = categories()[1].id
    update_course_field(creator, course, "category_id", str(other))
    assert course.category_id == other


@pytest.mark.parametrize("field, value", [
    ("title", ""),
    ("title", "t" * 300),
    ("subtitle", "s" * 201),
    ("description", "d" * 20_001),
    ("category_id", "999999"),
    ("category_id", ""),
    ("level", "expert"),
    ("level", ""),
    ("language", "xx"),
    ("language", "English"),
])
def test_invalid_values_are_refused_and_nothing_is_saved(db, creator, make_course, field, value):
    course = make_course(creator, title="Original", subtitle="Sub", description="Desc")
    before = {f: getattr(course, f) for f in ("title", "subtitle", "description", "category_id",
                                             "level", "language", "updated_at")}
    with pytest.raises(Invalid) as exc:
        update_course_field(creator, course, field, value)
    assert exc.value.field == field
    assert {f: getattr(course, f) for f in before} == before


@pytest.mark.parametrize("field", ["price_minor", "status", "creator_id", "slug", "published_at"])
def test_fields_outside_the_editable_list_are_refused(db, creator, make_course, field):
    course = make_course(creator)
    with pytest.raises(Invalid):
        update_course_field(creator, course, field, "1")


def test_another_creator_cannot_edit_the_course(db, creator, make_user, make_course):
    course = make_course(creator, title="Mine")
    intruder = make_user()
    with pytest.raises(NotAllowed):
        update_course_field(intruder, course, "title", "Stolen")
    assert _stored(db, course.id).title == "Mine"


def test_even_a_superuser_cannot_edit_someone_elses_course(db, creator, admin, make_course):
    course = make_course(creator, title="Mine")
    with pytest.raises(NotAllowed):
        update_course_field(admin, course, "title", "Admin's now")
    with pytest.raises(NotAllowed):
        set_price(admin, course, "10.00")
    stored = _stored(db, course.id)
    assert (stored.title, stored.price_minor) == ("Mine", 0)


def test_a_suspended_creator_cannot_edit_their_course(db, creator, make_course):
    course = make_course(creator)
    creator.suspended_at = NOW
    with pytest.raises(NotAllowed):
        update_course_field(creator, course, "title", "New")


def test_a_course_under_review_is_locked(db, creator, make_course):
    course = make_course(creator, status="under_review", title="Waiting")
    with pytest.raises(CourseLocked):
        update_course_field(creator, course, "title", "Changed")
    with pytest.raises(CourseLocked):
        set_price(creator, course, "10.00")
    assert _stored(db, course.id).title == "Waiting"


def test_a_published_course_stays_editable(db, creator, make_course):
    course = make_course(creator, status="published")
    update_course_field(creator, course, "subtitle", "Now with more examples")
    assert course.status == "published" and course.subtitle == "Now with more examples"


# --- set_price ------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, minor", [
    ("19.99", 1999), ("0", 0), ("0.00", 0), (" 5 ", 500), ("$12.50", 1250), ("1.99", 199),
    ("999.99", 99999), ("12.5", 1250), (0, 0), (2999, 2999),
])
def test_a_price_is_stored_in_cents(db, creator, make_course, typed, minor):
    course = make_course(creator, price_minor=500)
    set_price(creator, course, typed)
    assert course.price_minor == minor
    assert course.is_free is (minor == 0)


@pytest.mark.parametrize("typed", [
    "-1", "-0.01", "abc", "", "  ", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf",
    "0.001", "1.999", "19.999", "1e3", "1e30", "9" * 40, "1e999999999", "12,50", "9,99",
    "1_000", "١٢", "0x10", "+5", "5-", "1.2.3", "--1", None, -100,
])
def test_nonsense_negative_and_absurd_prices_are_refused(db, creator, make_course, typed):
    course = make_course(creator, price_minor=1500)
    with pytest.raises(Invalid) as exc:
        set_price(creator, course, typed)
    assert exc.value.field == "price"
    assert course.price_minor == 1500


def test_a_paid_price_below_the_minimum_is_refused(app, db, creator, make_course):
    course = make_course(creator)
    minimum = app.config["COURSE_MIN_PRICE_MINOR"]
    with pytest.raises(Invalid, match="enter 0 to make it free"):
        set_price(creator, course, minimum - 1)
    set_price(creator, course, minimum)
    assert course.price_minor == minimum


def test_a_price_above_the_maximum_is_refused(app, db, creator, make_course):
    course = make_course(creator)
    maximum = app.config["COURSE_MAX_PRICE_MINOR"]
    with pytest.raises(Invalid, match="highest price"):
        set_price(creator, course, maximum + 1)
    set_price(creator, course, maximum)
    assert course.price_minor == maximum


# --- delete_course -----------------------------------------------------------------------

def test_a_never_published_draft_can_be_deleted(db, creator, make_course):
    course = make_course(creator)
    delete_course(creator, course)
    db.session.commit()
    assert db.session.get(Course, course.id) is None


@pytest.mark.parametrize("status", ["under_review", "published", "unpublished"])
def test_only_drafts_can_be_deleted(db, creator, make_course, status):
    course = make_course(creator, status=status)
    with pytest.raises(IllegalTransition):
        delete_course(creator, course)
    db.session.commit()
    assert db.session.get(Course, course.id) is not None


def test_a_draft_that_was_once_published_cannot_be_deleted(db, creator, make_course):
    course = make_course(creator, status="draft", published_at=NOW)
    with pytest.raises(IllegalTransition):
        delete_course(creator, course)


def test_another_user_cannot_delete_a_course(db, creator, admin, make_course):
    course = make_course(creator)
    with pytest.raises(NotAllowed):
        delete_course(admin, course)
