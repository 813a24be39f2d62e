"""The search table `course_search` and the set of courses the catalog may show.

`course_search` holds, beside the text, a copy of every column the catalog filters and sorts
on, kept up to date by database triggers (migrations 0004 and 0006), so a search reads that one
table and never probes `course`, `users` or `course_stats` per match. Both backends, the facets
and the result pages start from `searchable` and narrow it with `apply_filters`.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Category, Course
from app.dbtypes import UTCDateTime
from app.discovery.search.query import CatalogQuery

# The search table (migrations 0004 and 0006), not a model: the database keeps its rows.
# `document` exists on PostgreSQL only (SQLite matches text in the FTS5 table `course_fts`).
SEARCH = sa.table(
    "course_search",
    sa.column("course_id", sa.Integer), sa.column("document"),
    sa.column("published", sa.Boolean), sa.column("creator_id", sa.Integer),
    sa.column("creator_suspended_at", UTCDateTime()),
    sa.column("creator_suspended_until", UTCDateTime()),
    sa.column("category_id", sa.Integer), sa.column("level", sa.String),
    sa.column("language", sa.String), sa.column("price_minor", sa.BigInteger),
    sa.column("rating_count", sa.Integer), sa.column("rating_sum", sa.Integer),
    sa.column("rating_score", sa.Integer), sa.column("trending_score", sa.BigInteger),
    sa.column("published_at", UTCDateTime()))


def visible_courses(now: datetime):
    """Published courses whose creator is not suspended (the catalog's base set)."""
    return (sa.select(Course.id)
            .join(User, User.id == Course.creator_id)
            .where(Course.status == "published",
                   sa.or_(User.suspended_at.is_(None), User.suspended_until <= now)))


def searchable(now: datetime):
    """The same set as `visible_courses`, read from the search table alone."""
    return sa.select(SEARCH.c.course_id).where(
        SEARCH.c.published.is_(True),
        sa.or_(SEARCH.c.creator_suspended_at.is_(None), SEARCH.c.creator_suspended_until <= now))


def apply_filters(stmt, query: CatalogQuery, *, skip: str = ""):
    c = SEARCH.c
    if query.price == "free" and skip != "price":
        stmt = stmt.where(c.price_minor == 0)
    elif query.price == "paid" and skip != "price":
        stmt = stmt.where(c.price_minor > 0)
    # The price range stays on for the free/paid facet: choosing "Paid" keeps the range.
    if query.min_price is not None:
        stmt = stmt.where(c.price_minor >= query.min_price)
    if query.max_price is not None:
        stmt = stmt.where(c.price_minor <= query.max_price)
    if query.min_rating and skip != "rating":
        stmt = stmt.where(c.rating_count > 0, c.rating_sum >= query.min_rating * c.rating_count)
    if query.category and skip != "category":
        stmt = stmt.where(c.category_id == sa.select(Category.id).where(
            Category.slug == query.category).scalar_subquery())
    if query.creator:
        stmt = stmt.where(c.creator_id == query.creator)
    if query.level and skip != "level":
        stmt = stmt.where(c.level == query.level)
    if query.language and skip != "language":
        stmt = stmt.where(c.language == query.language)
    return stmt
