"""Facets: for each filter of the catalog, its values with how many results each would give,
counted over the search table with the other filters on and its own off.

A count costs a scan per filter and changes slowly, so `cached_facets` keeps the counts a
minute in Redis (`FACET_CACHE_ENABLED` turns that off); a Redis failure only costs the cache.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.catalog.models import LANGUAGES, LEVELS, Category
from app.discovery.replica import catalog_session
from app.discovery.search.query import PRICES, RATINGS, CatalogQuery
from app.discovery.search.table import SEARCH, apply_filters
from app.extensions import get_redis, redis_key

FACET_TTL_SECONDS = 60


def cached_facets(base, query: CatalogQuery) -> dict:
    """Facet counts change slowly and cost a scan per filter: keep them a minute in Redis,
    keyed by everything but the page and the sort."""
    if not current_app.config.get("FACET_CACHE_ENABLED", True):
        return facet_counts(base, query)
    key = redis_key("facets", json.dumps(query.to_args(page=1, sort=""), sort_keys=True))
    redis = get_redis()
    try:
        cached = redis.get(key)
    except RedisError:  # a cache must never break the page
        cached = None
    if cached:
        return {name: [tuple(item) for item in items] for name, items in json.loads(cached).items()}
    facets = facet_counts(base, query)
    try:
        redis.setex(key, FACET_TTL_SECONDS, json.dumps(facets))
    except RedisError:
        pass
    return facets


def facet_counts(base, query: CatalogQuery) -> dict[str, list[tuple[str, str, int]]]:
    """For each filter, its values with how many results each would give (the other filters
    applied, not its own)."""
    def grouped(column, skip):
        sub = apply_filters(base.add_columns(column.label("value")), query, skip=skip).subquery()
        return dict(catalog_session().execute(
            sa.select(sub.c.value, sa.func.count()).group_by(sub.c.value)).all())

    c = SEARCH.c
    categories = {category.id: category for category in catalog_session().scalars(sa.select(Category))}
    by_category = grouped(c.category_id, "category")
    by_level = grouped(c.level, "level")
    by_language = grouped(c.language, "language")
    by_price = grouped(sa.case((c.price_minor == 0, "free"), else_="paid"), "price")
    stars = sa.case((c.rating_count > 0, sa.func.floor(c.rating_sum * 1.0 / c.rating_count)),
                    else_=0)
    by_stars = grouped(stars, "rating")
    at_least = {n: sum(count for value, count in by_stars.items() if value is not None and value >= n)
                for n in RATINGS}
    return {
        "category": sorted(((categories[cid].slug, categories[cid].name, n)
                            for cid, n in by_category.items() if cid in categories),
                           key=lambda item: -item[2]),
        "level": [(key, label, by_level[key]) for key, label in LEVELS.items() if key in by_level],
        "language": [(key, label, by_language[key]) for key, label in LANGUAGES.items()
                     if key in by_language],
        "price": [(key, label, by_price.get(key, 0)) for key, label in PRICES.items()],
        "rating": [(str(n), label, at_least[n]) for n, label in RATINGS.items()],
    }
