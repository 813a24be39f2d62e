"""The search reads one table, `course_search`, whose filter and sort columns are copies kept by
the database (migration 0006): every change to a course, its creator or its aggregates must
show in the search at once. The same tests run on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog import courses, publishing
from app.catalog.models import Course
from app.dbtypes import utcnow
from app.discovery import search as search_module
from app.discovery.ranking import refresh_trending
from app.discovery.search import SEARCH, CatalogQuery, search_courses
from app.extensions import db
from app.learning.enrollment import enroll
from app.learning.models import CourseStats
from app.moderation.suspensions import suspend_user, unsuspend_user
from tests.support.apps import ON_POSTGRESQL
from tests.support.catalog import category
from tests.support.search import draft_course, ids, rate

NOW = utcnow().replace(microsecond=0)


def search(now=None, **fields):
    return search_courses(CatalogQuery(**fields), now=now)


def copies() -> dict[int, tuple]:
    c = SEARCH.c
    rows = db.session.execute(sa.select(
        c.course_id, c.published, c.creator_id, c.creator_suspended_at, c.creator_suspended_until,
        c.category_id, c.level, c.language, c.price_minor, c.rating_count, c.rating_sum,
        c.rating_score, c.trending_score, c.published_at)).all()
    return {row[0]: (bool(row[1]), *row[2:]) for row in rows}


def originals() -> dict[int, tuple]:
    rows = db.session.execute(
        sa.select(Course.id, Course.status == "published", Course.creator_id, User.suspended_at,
                  User.suspended_until, Course.category_id, Course.level, Course.language,
                  Course.price_minor, CourseStats.rating_count, CourseStats.rating_sum,
                  CourseStats.rating_score, sa.func.coalesce(CourseStats.trending_score, 0),
                  Course.published_at)
        .join(User, User.id == Course.creator_id)
        .outerjoin(CourseStats, CourseStats.course_id == Course.id)).all()
    return {row[0]: (bool(row[1]), *row[2:]) for row in rows}


def test_the_copies_follow_every_kind_of_change(publish, creator, reviewer, make_user,
                                                make_learners, user_admin):
    maker = make_user(display_name="Maker", password=None)
    kept = publish(title="Knitting Basics", price="19.99")
    theirs = publish(title="Weaving Basics", by=maker)
    gone = publish(title="Felting Basics")
    draft_course(creator, title="Spinning Draft")
    db.session.commit()
    assert copies() == originals()

    courses.set_price(creator, kept, "0")
    courses.update_course_field(creator, kept, "level", "advanced")
    courses.update_course_field(creator, kept, "language", "fr")
    courses.update_course_field(creator, kept, "category_id", str(category("design").id))
    rate(theirs, make_learners(2), [5, 3], granter=reviewer)
    enroll(make_learners(1, prefix="fresh")[0], kept, now=NOW)
    refresh_trending(now=NOW)
    suspend_user(user_admin, maker, reason="spam", until=NOW + timedelta(days=3), now=NOW)
    publishing.unpublish_course(creator, gone)
    db.session.commit()
    assert copies() == originals()
    assert copies()[gone.id][0] is False and copies()[kept.id][8] == 0

    unsuspend_user(user_admin, maker)
    db.session.delete(db.session.get(CourseStats, theirs.id))
    db.session.commit()
    assert copies() == originals()


def test_a_price_change_after_publishing_moves_the_course_between_free_and_paid(publish, creator):
    course = publish(title="Knitting Basics", price="19.99")
    other = publish(title="Weaving Basics", price="9.99")
    assert ids(search(price="paid", sort="price")) == [other.id, course.id]
    courses.set_price(creator, course, "4.99")
    db.session.commit()
    assert ids(search(price="paid", sort="price")) == [course.id, other.id]
    courses.set_price(creator, course, "0")
    db.session.commit()
    assert ids(search(price="free")) == [course.id]
    assert ids(search(price="paid")) == [other.id]
    assert ids(search(max_price=500)) == [course.id]


def test_a_level_or_language_change_after_publishing_changes_the_filters(publish, creator):
    course = publish(title="Knitting Basics", level="beginner", language="en")
    assert ids(search(level="beginner")) == [course.id]
    courses.update_course_field(creator, course, "level", "advanced")
    courses.update_course_field(creator, course, "language", "es")
    db.session.commit()
    assert ids(search(level="beginner")) == [] and ids(search(language="en")) == []
    assert ids(search(level="advanced", language="es")) == [course.id]


def test_a_new_rating_is_seen_by_the_rating_filter_sort_and_facet(publish, make_learners, reviewer):
    liked = publish(title="Knitting Basics")
    other = publish(title="Weaving Basics")
    rate(other, make_learners(1, prefix="a"), [4], granter=reviewer)
    assert ids(search(min_rating=4)) == [other.id]
    assert ids(search(sort="rating")) == [other.id, liked.id]
    rate(liked, make_learners(3, prefix="b"), [5, 5, 5], granter=reviewer)
    assert set(ids(search(min_rating=4))) == {liked.id, other.id}
    assert ids(search(sort="rating")) == [liked.id, other.id]
    facet = dict((key, n) for key, _, n in search_courses(CatalogQuery(q="knitting")).facets["rating"])
    assert facet["4"] == 1


def test_a_suspension_with_an_end_hides_the_courses_until_it_ends(publish, make_user, user_admin):
    maker = make_user(display_name="Sam Suspended", password=None)
    course = publish(title="Knitting Basics", by=maker)
    shown = publish(title="Weaving Basics")
    suspend_user(user_admin, maker, reason="spam", until=NOW + timedelta(days=3), now=NOW)
    db.session.commit()
    assert ids(search(now=NOW + timedelta(days=1))) == [shown.id]
    assert ids(search(q="knitting", now=NOW + timedelta(days=1))) == []
    assert set(ids(search(now=NOW + timedelta(days=4)))) == {course.id, shown.id}
    assert ids(search(q="knitting", now=NOW + timedelta(days=4))) == [course.id]


def test_moving_a_course_to_another_category_changes_the_category_filter(publish, creator):
    course = publish(title="Knitting Basics", category_slug="design")
    courses.update_course_field(creator, course, "category_id", str(category("business").id))
    db.session.commit()
    assert ids(search(category="design")) == []
    assert ids(search(category="business")) == [course.id]


def test_a_single_letter_is_a_whole_word_not_a_prefix(publish):
    c_course = publish(title="C Programming Basics")
    cooking = publish(title="Cooking Basics")
    assert ids(search(q="c")) == [c_course.id]
    assert ids(search(q="c basics")) == [c_course.id]
    assert ids(search(q="coo")) == [cooking.id]  # longer words are prefixes


def test_a_card_shows_the_course_and_its_total_lesson_time(publish, creator):
    course = publish(title="Knitting Basics", price="19.99", duration_minutes=10)
    publish(title="Weaving Basics")
    card, = search_courses(CatalogQuery(q="knitting")).cards
    assert (card.id, card.title, card.creator_name, card.price_minor) == (
        course.id, "Knitting Basics", creator.display_name, 1999)
    assert card.duration_seconds == 3 * 10 * 60


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the ranking budget is PostgreSQL's")
def test_past_the_ranking_budget_relevance_puts_courses_with_every_word_in_the_title_first(
        publish, monkeypatch):
    """PostgreSQL ranks at most RANK_BUDGET // words matches by cover density; a broader
    query is ordered by where the words appear (SQLite's bm25 has no such limit)."""
    in_title = publish(title="Gouache Watercolour Studio")
    everywhere = publish(title="Evening Sketching", description="Gouache watercolour. " * 12)
    in_subtitle = publish(title="Paint at Home", subtitle="Gouache and watercolour projects")
    split = publish(title="Watercolour Portraits", subtitle="Also some gouache")
    # Cover density: a dozen close pairs in the description outweigh one pair in the title.
    assert ids(search(q="gouache watercolour")) == [everywhere.id, in_title.id, in_subtitle.id,
                                                    split.id]
    monkeypatch.setattr(search_module, "RANK_BUDGET", 2 * 3)  # two words: three matches at most
    results = search(q="gouache watercolour")
    assert results.total == 4
    # Every word in the title; then every word in title, subtitle or category (newest first
    # when tied); then the rest.
    assert ids(results) == [in_title.id, split.id, in_subtitle.id, everywhere.id]
