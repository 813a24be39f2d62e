"""Filters, sorts and facet counts against a model computed in Python: for any combination,
every result satisfies every filter, nothing that matches is missing, the order follows the
sort, and each facet count is what selecting that value would give."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.catalog import publishing
from app.catalog.models import LANGUAGES, LEVELS
from app.discovery.ranking import refresh_trending
from app.discovery.search import RATINGS, CatalogQuery, search_courses
from app.extensions import db
from app.learning import stats
from app.learning.models import CourseStats
from app.moderation.suspensions import suspend_user
from tests.support.search import draft_course, enroll_many, ids, publish, rate

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORDS = ("python", "guitar", "watercolour", "finance", "yoga")
CATEGORIES = ("development", "music", "design", "business", "health-fitness")
# (title word, category, level, language, price, ratings)
CATALOG = [
    ("python", "development", "beginner", "en", "0", [5]),
    ("python", "development", "advanced", "en", "49.00", [4, 4, 5, 4]),
    ("python", "business", "intermediate", "es", "9.99", []),
    ("guitar", "music", "beginner", "en", "19.99", [3, 2]),
    ("guitar", "music", "all", "fr", "0", [4, 5]),
    ("guitar", "music", "advanced", "en", "120.00", [2]),
    ("watercolour", "design", "beginner", "fr", "0", [5, 5, 4]),
    ("watercolour", "design", "all", "en", "19.99", None),  # no learner at all
    ("watercolour", "design", "intermediate", "de", "9.99", [1, 3]),
    ("finance", "business", "all", "en", "49.00", [4, 3, 4]),
    ("finance", "business", "beginner", "es", "0", [3]),
    ("finance", "development", "advanced", "en", "19.99", []),
    ("yoga", "health-fitness", "all", "en", "0", [5, 4, 4, 4, 5]),
    ("yoga", "health-fitness", "beginner", "es", "9.99", None),
    ("yoga", "music", "intermediate", "en", "120.00", [2, 1]),
]
SECOND_WORDS = ("Basics", "Workshop", "Studio", "Masterclass", "Essentials")


@dataclass
class Expected:
    id: int
    word: str
    category: str
    creator_id: int
    level: str
    language: str
    price_minor: int
    ratings: list
    published_at: datetime
    trending: int = 0

    @property
    def average(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    @property
    def rating_score(self) -> int:
        return stats.smoothed_score(sum(self.ratings), len(self.ratings))


@pytest.fixture
def catalog(make_user, reviewer, admin, user_admin):
    """15 published courses of three creators, a fourth (suspended) creator's course, a draft
    and an unpublished course; ratings from a pool of learners; trending refreshed."""
    creators = [make_user(password=None, display_name=f"Maker {i}") for i in range(3)]
    learners = [make_user(password=None, display_name=f"Rater {i}") for i in range(5)]
    expected = []
    for n, (word, category, level, language, price, ratings) in enumerate(CATALOG):
        by = creators[n % 3]
        at = START + timedelta(hours=n * 7 % 15)  # published out of id order
        course = publish(by, reviewer, title=f"{word.title()} {SECOND_WORDS[n % 5]}",
                         category_slug=category, level=level, language=language, price=price,
                         now=at)
        if ratings:
            rate(course, learners[:len(ratings)], ratings, granter=admin, now=at)
        elif ratings == []:  # enrolled, never reviewed
            enroll_many(course, learners[:2], granter=admin, now=at)
        expected.append(Expected(course.id, word, category, by.id, level, language,
                                 course.price_minor, ratings or [], at))
    # Never in the catalog: a suspended creator's course, a draft, an unpublished course.
    banned = make_user(password=None, display_name="Banned Maker")
    publish(banned, reviewer, title="Python Forbidden", category_slug="development")
    suspend_user(user_admin, banned, reason="fraud")
    draft_course(creators[0], title="Python Draft")
    gone = publish(creators[1], reviewer, title="Guitar Gone", category_slug="music")
    publishing.unpublish_course(creators[1], gone)
    db.session.commit()
    refresh_trending(now=START + timedelta(days=1))
    db.session.commit()
    scores = dict(db.session.execute(sa.select(CourseStats.course_id, CourseStats.trending_score)).all())
    for item in expected:
        item.trending = scores.get(item.id, 0)
    assert sum(1 for item in expected if item.trending) >= 8  # the trending sort has work to do
    return {"courses": expected, "creators": [c.id for c in creators] + [banned.id]}


def matches(item: Expected, query: CatalogQuery) -> bool:
    q = query.q
    if q.startswith("-") and q[1:] == item.word:
        return False
    if q and not q.startswith("-") and q != item.word:
        return False
    if query.price == "free" and item.price_minor != 0:
        return False
    if query.price == "paid" and item.price_minor == 0:
        return False
    if query.min_price is not None and item.price_minor < query.min_price:
        return False
    if query.max_price is not None and item.price_minor > query.max_price:
        return False
    if query.min_rating and (item.average is None or item.average < query.min_rating):
        return False
    if query.category and item.category != query.category:
        return False
    if query.creator and item.creator_id != query.creator:
        return False
    if query.level and item.level != query.level:
        return False
    return not (query.language and item.language != query.language)


def expected_order(found: list[Expected], sort: str) -> list[int]:
    keys = {
        "trending": lambda i: (-i.trending, -i.id),
        "newest": lambda i: (-i.published_at.timestamp(), -i.id),
        "rating": lambda i: (-i.rating_score, -i.id),
        "price": lambda i: (i.price_minor, i.id),
    }
    return [i.id for i in sorted(found, key=keys[sort])]


def queries():
    """Queries whose `creator` is an index into the catalog's creators (see `with_creator`)."""
    amounts = st.one_of(st.none(), st.sampled_from([0, 999, 1999, 4900, 12000, 5000]))
    return st.builds(
        CatalogQuery,
        q=st.sampled_from(["", "", "", *WORDS, "-python", "-yoga"]),
        price=st.sampled_from(["", "", "free", "paid"]),
        min_price=amounts, max_price=amounts,
        min_rating=st.one_of(st.none(), st.integers(1, 5)),
        category=st.sampled_from(["", "", "", *CATEGORIES, "photography-video"]),
        creator=st.one_of(st.none(), st.none(), st.integers(0, 3)),
        level=st.sampled_from(["", "", *LEVELS]),
        language=st.sampled_from(["", "", "", "en", "es", "fr", "de", "ja"]),
        sort=st.sampled_from(["", "relevance", "trending", "newest", "rating", "price"]),
    )


def with_creator(query: CatalogQuery, catalog) -> CatalogQuery:
    if query.creator is None:
        return query
    return replace(query, creator=catalog["creators"][query.creator])


FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(query=queries())
@example(query=CatalogQuery(sort="rating"))  # courses nobody enrolled in rank as the prior
@example(query=CatalogQuery(price="paid", max_price=1999, sort="price"))
@example(query=CatalogQuery(creator=3))  # the suspended creator
def test_every_result_satisfies_every_filter_and_nothing_is_missing(catalog, query):
    query = with_creator(query, catalog)
    results = search_courses(query, with_facets=False)
    found = [item for item in catalog["courses"] if matches(item, query)]
    assert results.total == len(found)
    assert results.pages == 1 and results.page == 1
    by_id = {item.id: item for item in catalog["courses"]}
    for card in results.cards:
        assert matches(by_id[card.id], query), (card, query)
        if query.min_rating:
            assert card.rating_average >= query.min_rating
    sort = query.effective_sort
    if sort == "relevance" and query.q.startswith("-"):
        sort = "trending"
    if sort == "relevance":
        assert sorted(ids(results)) == sorted(item.id for item in found)
    else:
        assert ids(results) == expected_order(found, sort)


FACET_VALUES = {
    "price": ("price", ["free", "paid"]),
    "rating": ("min_rating", [str(n) for n in RATINGS]),
    "category": ("category", list(CATEGORIES) + ["photography-video"]),
    "level": ("level", list(LEVELS)),
    "language": ("language", list(LANGUAGES)),
}


@settings(FAST, max_examples=12)
@given(query=queries())
@example(query=CatalogQuery(max_price=0))  # the free/paid facet keeps the price range
@example(query=CatalogQuery(q="guitar", min_rating=3, level="beginner"))
def test_each_facet_count_is_what_selecting_it_would_give(catalog, query):
    query = with_creator(query, catalog)
    results = search_courses(query)
    for facet, (field, values) in FACET_VALUES.items():
        counts = {value: n for value, _label, n in results.facets[facet]}
        for value in values:
            chosen = replace(query, **{field: int(value) if field == "min_rating" else value})
            expected = sum(1 for item in catalog["courses"] if matches(item, chosen))
            assert counts.get(value, 0) == expected, (facet, value, query)
    # …and the model agrees with the search itself, checked on the values that have courses.
    for facet, (field, _values) in FACET_VALUES.items():
        for value, _label, n in results.facets[facet]:
            chosen = replace(query, **{field: int(value) if field == "min_rating" else value})
            assert search_courses(chosen, with_facets=False).total == n, (facet, value, query)

