"""The public catalog's one search interface: text query, filters, sorts, facets, pages.

`search_courses(CatalogQuery)` is what callers use (the catalog and creator pages,
recommendations); this module runs it, and its parts each do one job:

- query.py: the query string read into a `CatalogQuery`, and its text into plain words;
- table.py: the search table `course_search` (a copy of every column the catalog filters and
  sorts on, kept by triggers) and the filters over it;
- postgres.py and sqlite.py: the two full-text backends, one contract, chosen by the database;
- vocabulary.py: the words of published courses, for prefixes and "did you mean";
- facets.py: counts per filter value, cached a minute;
- cards.py: what a result card shows, for a page of ids.

Query text only ever travels as a bound parameter, reduced to plain words first. When a query
finds nothing, its words are corrected against the vocabulary ("did you mean") and searched
again. Only published courses of creators who are not suspended appear. Every read goes
through `catalog_session()`, the replica when there is one (replica.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.dbtypes import utcnow
from app.discovery.replica import catalog_session, replica_reads
from app.discovery.search import postgres, sqlite
from app.discovery.search.cards import CourseCard, cards_for
from app.discovery.search.facets import cached_facets, facet_counts
from app.discovery.search.postgres import RANK_BUDGET
from app.discovery.search.query import (
    MAX_QUERY_CHARS,
    PRICES,
    QUERY_ARGS,
    RATINGS,
    SORTS,
    CatalogQuery,
    parse_query,
    terms_of,
)
from app.discovery.search.table import SEARCH, apply_filters, searchable, visible_courses
from app.discovery.search.vocabulary import correct_terms, expansions, refresh_search_terms
from app.learning.stats import smoothed_score

__all__ = [
    "MAX_QUERY_CHARS", "PER_PAGE", "PRICES", "QUERY_ARGS", "RANK_BUDGET", "RATINGS", "SEARCH", "SORTS",
    "CatalogQuery", "CourseCard", "Results", "apply_filters", "cards_for", "facet_counts", "match_text",
    "parse_query", "refresh_search_terms", "search_courses", "searchable", "visible_courses",
]

PER_PAGE = 20


@dataclass
class Results:
    query: CatalogQuery
    cards: list[CourseCard]
    total: int
    page: int
    pages: int
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    corrected_q: str | None = None
    notes: list[str] = field(default_factory=list)


def search_courses(query: CatalogQuery, *, per_page: int = PER_PAGE, with_facets: bool = True,
                   now: datetime | None = None) -> Results:
    """One page of the public catalog, read from the replica when there is one (replica.py)."""
    now = now or utcnow()
    with replica_reads():
        if _dialect() == "postgresql":
            postgres.prepare(catalog_session())
        wanted, excluded = terms_of(query.q)
        results = _run(query, wanted, excluded, per_page, with_facets, now)
        if results.total == 0 and wanted:
            corrected = correct_terms(wanted)
            if corrected != wanted:
                results = _run(query, corrected, excluded, per_page, with_facets, now)
                results.corrected_q = " ".join(corrected)
    return results


def match_text(stmt, wanted: list[str], excluded: list[str]):
    """`stmt` (a select from SEARCH) narrowed to the courses matching the words, and the
    rank of a match (higher is better; None without wanted words). With only excluded words:
    every course that has none of them."""
    more = expansions(wanted)
    groups = [[word, *more.get(word, [])] for word in wanted]
    if _dialect() == "postgresql":
        # RANK_BUDGET is read here, on each search, so this package's name is the one setting
        # (a test lowers it to reach the order PostgreSQL falls back to).
        return postgres.match_text(stmt, groups, excluded, rank_budget=RANK_BUDGET)
    return sqlite.match_text(stmt, groups, excluded)


def _dialect() -> str:
    return catalog_session().get_bind().dialect.name


def _run(query, wanted, excluded, per_page, with_facets, now) -> Results:
    base = searchable(now)
    rank = None
    if wanted or excluded:
        base, rank = match_text(base, wanted, excluded)
    filtered = apply_filters(base, query)
    sort = query.effective_sort
    if sort == "relevance" and not wanted:  # nothing to rank by (only `-word`s, or symbols)
        sort = "trending"
    page = query.page
    ids, total = _page(filtered, sort, rank, page, per_page)
    if not ids and page > 1:  # past the last page: show the last one
        total = catalog_session().scalar(sa.select(sa.func.count()).select_from(filtered.subquery())) or 0
        page = max((total + per_page - 1) // per_page, 1)
        ids, total = _page(filtered, sort, rank, page, per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    facets = cached_facets(base, query) if with_facets else {}
    return Results(query=query, cards=cards_for(ids), total=total, page=min(page, pages), pages=pages,
                   facets=facets)


def _page(filtered, sort, rank, page, per_page) -> tuple[list[int], int]:
    """One page of ids and the total count, in one query (a window count)."""
    stmt = (_order(filtered.add_columns(sa.func.count().over().label("total")), sort, rank)
            .limit(per_page).offset((page - 1) * per_page))
    rows = catalog_session().execute(stmt).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def _order(stmt, sort: str, rank):
    c = SEARCH.c
    key = {
        "relevance": (rank.desc(),) if rank is not None else (),
        "trending": (c.trending_score.desc(),),
        "newest": (c.published_at.desc(),),
        # A course nobody has enrolled in has no stats row yet: it ranks as the prior does.
        "rating": (sa.func.coalesce(c.rating_score, smoothed_score(0, 0)).desc(),),
        "price": (c.price_minor.asc(),),
    }[sort]
    tie = c.course_id.asc() if sort == "price" else c.course_id.desc()
    return stmt.order_by(*key, tie)  # the id makes pages stable when scores tie
