"""Sorts (trending, newest, highest-rated, price) and pages that stay stable under ties."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.dbtypes import utcnow
from app.discovery.ranking import refresh_trending
from app.discovery.search import CatalogQuery, search_courses
from app.extensions import db
from app.learning import stats
from app.learning.enrollment import enroll
from tests.support.search import ids, rate

NOW = utcnow().replace(microsecond=0)


def sort(by: str, **filters) -> list[int]:
    return ids(search_courses(CatalogQuery(sort=by, **filters)))


def test_trending_puts_recent_activity_first_and_is_the_default_without_a_query(
        publish, make_learners):
    quiet, old_buzz, new_buzz = (publish(title=f"Knitting {n}") for n in range(3))
    people = make_learners(3)
    for someone in people:
        enroll(someone, old_buzz, now=NOW - timedelta(days=9))
    for someone in people[:2]:  # fewer learners, but recent ones
        enroll(someone, new_buzz, now=NOW - timedelta(hours=6))
    db.session.commit()
    refresh_trending(now=NOW)
    assert sort("trending") == [new_buzz.id, old_buzz.id, quiet.id]
    assert sort("") == sort("trending")
    assert ids(search_courses(CatalogQuery(q="knitting", sort="trending"))) == sort("trending")


def test_newest_puts_the_latest_published_first(publish):
    middle = publish(title="Knitting 1", now=NOW - timedelta(days=2))
    latest = publish(title="Knitting 2", now=NOW - timedelta(hours=1))
    oldest = publish(title="Knitting 3", now=NOW - timedelta(days=30))
    assert sort("newest") == [latest.id, middle.id, oldest.id]


def test_one_five_star_review_does_not_top_many_four_and_a_halfs(publish, make_learners):
    lucky = publish(title="Knitting Lucky")
    solid = publish(title="Knitting Solid")
    unrated = publish(title="Knitting Unrated")
    poor = publish(title="Knitting Poor")
    people = make_learners(10)
    rate(lucky, people[:1], [5])
    rate(solid, people, [5, 4] * 5)
    rate(poor, people[:3], [2, 1, 2])
    assert sort("rating") == [solid.id, lucky.id, unrated.id, poor.id]
    assert stats.stats_for(lucky.id).average > stats.stats_for(solid.id).average  # raw would lie


def test_price_low_to_high_starts_with_free_courses(publish):
    dear = publish(title="Knitting Dear", price="120")
    free = publish(title="Knitting Free", price="0")
    cheap = publish(title="Knitting Cheap", price="9.99")
    also_cheap = publish(title="Knitting Cheap Too", price="9.99")
    assert sort("price") == [free.id, cheap.id, also_cheap.id, dear.id]


@pytest.mark.parametrize("by", ["relevance", "trending", "newest", "rating", "price"])
def test_pages_are_disjoint_and_cover_everything_when_every_score_ties(publish, by):
    tied = {publish(title="Knitting Basics", price="9.99", now=NOW).id for _ in range(7)}
    query = CatalogQuery(q="knitting" if by == "relevance" else "", sort=by)
    pages = [search_courses(replace(query, page=n), per_page=3, with_facets=False) for n in (1, 2, 3)]
    seen = [ids(page) for page in pages]
    assert [len(page) for page in seen] == [3, 3, 1]
    assert set().union(*map(set, seen)) == tied
    assert sum(map(len, seen)) == len(tied)  # no course on two pages
    assert all(page.total == 7 and page.pages == 3 for page in pages)
    again = [ids(search_courses(replace(query, page=n), per_page=3, with_facets=False))
             for n in (1, 2, 3)]
    assert again == seen  # the same pages every time


def test_a_page_past_the_end_shows_the_last_page(publish):
    made = [publish(title=f"Knitting {n}") for n in range(4)]
    results = search_courses(CatalogQuery(page=9), per_page=3)
    assert results.page == 2 and results.pages == 2 and len(results.cards) == 1
    assert ids(results)[0] in {course.id for course in made}
