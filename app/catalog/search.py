"""The public catalog's one search interface: text query, filters, sorts, facets, pages.

Two backends answer the same contract, chosen by the database: PostgreSQL full-text search
(weighted tsvector in `course_search`, GIN index) and SQLite FTS5 (`course_fts`). Beside the
text, `course_search` holds a copy of every column the catalog filters and sorts on, so a
search reads that one table and never probes `course`, `users` or `course_stats` per match;
the database keeps all of it up to date with triggers (migrations 0004 and 0006). Query text
only ever travels as a bound parameter, reduced to plain words first. When a query finds
nothing, its words are corrected against the vocabulary of published courses ("did you
mean") and searched again. Only published courses of creators who are not suspended appear.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import LANGUAGES, LEVELS, Category, Course, Lesson, MediaAsset, SearchTerm
from app.catalog.replica import catalog_session, replica_reads
from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db
from app.learning.models import CourseStats
from app.learning.stats import smoothed_score

PER_PAGE = 20
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
SORTS = {"relevance": "Best match", "trending": "Trending", "newest": "Newest",
         "rating": "Highest rated", "price": "Price: low to high"}
PRICES = {"free": "Free", "paid": "Paid"}
RATINGS = {4: "4 stars & up", 3: "3 stars & up", 2: "2 stars & up"}
WORD = re.compile(r"-?\w+", re.UNICODE)


@dataclass(frozen=True)
class CatalogQuery:
    q: str = ""
    price: str = ""          # "", "free" or "paid"
    min_price: int | None = None   # minor units
    max_price: int | None = None
    min_rating: int | None = None  # whole stars
    category: str = ""       # category slug
    creator: int | None = None
    level: str = ""
    language: str = ""
    sort: str = ""           # "" means the default: relevance with a query, else trending
    page: int = 1

    @property
    def effective_sort(self) -> str:
        if self.sort == "relevance" and not self.q:
            return "trending"
        return self.sort or ("relevance" if self.q else "trending")

    def to_args(self, **changes) -> dict[str, str]:
        """Query-string arguments for this state with `changes` (None removes a key)."""
        values = asdict(replace(self, **changes)) if changes else asdict(self)
        out = {}
        for key, value in values.items():
            if value in (None, "", 1 if key == "page" else None):
                continue
            if key in ("min_price", "max_price"):
                value = f"{value / 100:.2f}".rstrip("0").rstrip(".")
            out[key] = str(value)
        return out

    def without(self, name: str) -> dict[str, str]:
        """Query-string arguments with the filter `name` removed (and back to page 1)."""
        cleared = "" if isinstance(getattr(self, name), str) else None
        return self.to_args(**{name: cleared, "page": 1})

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        """(field, label) of every filter that is on, for "remove this filter" links."""
        found = []
        if self.q:
            found.append(("q", f"“{self.q}”"))
        if self.price:
            found.append(("price", PRICES[self.price]))
        if self.min_price is not None:
            found.append(("min_price", f"from {self.min_price / 100:.2f}"))
        if self.max_price is not None:
            found.append(("max_price", f"up to {self.max_price / 100:.2f}"))
        if self.min_rating:
            found.append(("min_rating", RATINGS.get(self.min_rating, f"{self.min_rating}+ stars")))
        if self.category:
            found.append(("category", self.category))
        if self.creator:
            found.append(("creator", f"creator #{self.creator}"))
        if self.level:
            found.append(("level", LEVELS.get(self.level, self.level)))
        if self.language:
            found.append(("language", LANGUAGES.get(self.language, self.language)))
        return found


def _int(value, *, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def _amount(value) -> int | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number != number or number < 0 or number > 1_000_000:  # NaN, negative, absurd
        return None
    return int(round(number * 100))


def parse_query(args: Mapping[str, str]) -> tuple[CatalogQuery, list[str]]:
    """A CatalogQuery from the query string. Nonsense is dropped with a note, never a 500."""
    notes: list[str] = []
    q = " ".join((args.get("q") or "").split())
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        notes.append(f"Your search was shortened to its first {MAX_QUERY_CHARS} characters.")
    price = args.get("price", "")
    if price not in ("", *PRICES):
        notes.append("Unknown price filter ignored.")
        price = ""
    values = {}
    for key in ("min_price", "max_price"):
        raw = args.get(key, "")
        values[key] = _amount(raw) if raw != "" else None
        if raw != "" and values[key] is None:
            notes.append(f"Ignored {key.replace('_', ' ')} “{raw[:20]}”: enter an amount like 19.99.")
    raw_rating = args.get("min_rating", "")
    min_rating = _int(raw_rating, low=1, high=5) if raw_rating != "" else None
    if raw_rating != "" and min_rating is None:
        notes.append("Ignored the minimum rating: choose 1 to 5 stars.")
    category = args.get("category", "")
    if category and category not in category_slugs():
        notes.append(f"There is no category “{category[:40]}”; showing every category.")
        category = ""
    raw_creator = args.get("creator", "")
    creator = _int(raw_creator, low=1, high=2**31 - 1) if raw_creator != "" else None
    level = args.get("level", "")
    if level and level not in LEVELS:
        notes.append("Unknown level ignored.")
        level = ""
    language = args.get("language", "")
    if language and language not in LANGUAGES:
        notes.append("Unknown language ignored.")
        language = ""
    sort = args.get("sort", "")
    if sort and sort not in SORTS:
        notes.append("Unknown sort order ignored.")
        sort = ""
    page = _int(args.get("page", "1"), low=1, high=10_000) or 1
    return CatalogQuery(q=q, price=price, min_price=values["min_price"], max_price=values["max_price"],
                        min_rating=min_rating, category=category, creator=creator, level=level,
                        language=language, sort=sort, page=page), notes


# Every query-string argument `parse_query` reads, in one fixed order: a catalog page depends
# on these and nothing else, so they alone make its cache key (blueprints/caching.py).
QUERY_ARGS = tuple(item.name for item in fields(CatalogQuery))


def category_slugs() -> set[str]:
    return set(db.session.scalars(sa.select(Category.slug)))


# --- text matching ----------------------------------------------------------------------

# PostgreSQL's English stop words (`english.stop`): its full-text search ignores them, so
# they are dropped here for both backends, or FTS5 would demand them and find less.
STOPWORDS = frozenset("""
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did doing
    a an the and but if or because as until while of at by for with about against between into
    through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now""".split())
MAX_EXPANSIONS = 10
# A single letter is matched as a whole word, never as a prefix: "c" finds "C", not every
# word starting with c (a few such letters made any course match and every match cost a
# full ranking: seconds at 100,000 courses).
MIN_PREFIX = 2


def terms_of(q: str) -> tuple[list[str], list[str]]:
    """Plain words to find and words to exclude (`-word`), lower-cased, at most MAX_TERMS.
    Stop words are dropped, unless the query has nothing else to look for."""
    wanted, excluded = [], []
    for token in WORD.findall(q.lower())[:MAX_TERMS]:
        word = token.lstrip("-").replace("_", "")
        if not word:
            continue
        (excluded if token.startswith("-") else wanted).append(word[:40])
    if any(word not in STOPWORDS for word in wanted):
        wanted = [word for word in wanted if word not in STOPWORDS]
    excluded = [word for word in excluded if word not in STOPWORDS]
    return list(dict.fromkeys(wanted)), list(dict.fromkeys(excluded))


def _dialect() -> str:
    return catalog_session().get_bind().dialect.name


def expansions(words: list[str]) -> dict[str, list[str]]:
    """For each word the vocabulary does not know, the known words it starts. Both backends
    stem the query, and a stemmed prefix is not always a prefix of the stemmed word ("analy"
    stems to "anali", "analysis" to "analysi"), so a prefix also matches the whole words it
    starts. A known word is left alone: its stem already matches."""
    candidates = [word for word in dict.fromkeys(words) if len(word) >= 3]
    if not candidates:
        return {}
    known = set(catalog_session().scalars(sa.select(SearchTerm.term).where(SearchTerm.term.in_(candidates))))
    return {word: list(catalog_session().scalars(
        sa.select(SearchTerm.term).where(SearchTerm.term.startswith(word, autoescape=True))
        .order_by(SearchTerm.frequency.desc(), SearchTerm.term).limit(MAX_EXPANSIONS)))
        for word in candidates if word not in known}


# PostgreSQL ranks by cover density (`ts_rank_cd`), whose cost grows with the words asked and
# the number of matches: a few common words matching most of 100,000 courses took seconds.
# So it ranks at most RANK_BUDGET // (words asked) matches (8,000 for one word, 1,000 for
# eight); a broader query is ordered by where its words all appear instead: every word in
# the title first, then every word in title, subtitle or category, then the rest.
RANK_BUDGET = 8_000
RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"  # D (unused), C (description, lessons), B, A (title)


def tsquery_of(groups: list[list[str]], excluded: list[str], weights: str = "") -> str:
    """PostgreSQL: every group must match one of its prefixes (in the sections `weights`
    names, or anywhere), and no excluded word."""
    marks = (":*" + weights, ":" + weights if weights else "")
    expression = " & ".join("(" + " | ".join(w + marks[len(w) < MIN_PREFIX] for w in group) + ")"
                            for group in groups)
    return expression + "".join(f" & !{w}" for w in excluded)


def _relevance(groups: list[list[str]], tsquery):
    """Cover-density rank when there are few enough matches to afford it, else the tier."""
    def found_in(weights: str):
        matched = SEARCH.c.document.op("@@")(sa.func.to_tsquery("english", tsquery_of(groups, [], weights)))
        return sa.cast(matched, sa.Integer)

    tier = found_in("A") * 2 + found_in("AB")
    exact = sa.func.ts_rank_cd(sa.literal_column(RANK_WEIGHTS), SEARCH.c.document, tsquery,
                               type_=sa.Float)
    window = max(RANK_BUDGET // sum(len(group) for group in groups), 1)
    return sa.case((sa.func.count().over() <= window, exact), else_=sa.cast(tier, sa.Float))


def match_text(stmt, wanted: list[str], excluded: list[str]):
    """`stmt` (a select from SEARCH) narrowed to the courses matching the words, and the
    rank of a match (higher is better; None without wanted words). With only excluded words:
    every course that has none of them."""
    more = expansions(wanted)
    groups = [[word, *more.get(word, [])] for word in wanted]
    if _dialect() == "postgresql":
        if not groups:
            unwanted = sa.func.to_tsquery("english", " | ".join(excluded))
            inner = sa.table("course_search", sa.column("course_id"), sa.column("document")).alias("unwanted")
            return stmt.where(SEARCH.c.course_id.not_in(
                sa.select(inner.c.course_id).where(inner.c.document.op("@@")(unwanted)))), None
        tsquery = sa.func.to_tsquery("english", tsquery_of(groups, excluded))
        return stmt.where(SEARCH.c.document.op("@@")(tsquery)), _relevance(groups, tsquery)
    if not groups:
        unwanted = " OR ".join(f'"{w}"' for w in excluded)
        return stmt.where(SEARCH.c.course_id.not_in(
            sa.text("SELECT rowid FROM course_fts WHERE course_fts MATCH :unwanted")
            .bindparams(unwanted=unwanted).columns(rowid=sa.Integer))), None
    expression = " AND ".join("(" + " OR ".join(f'"{w}"' + ("*" if len(w) >= MIN_PREFIX else "")
                                                for w in group) + ")" for group in groups)
    expression += "".join(f' NOT "{w}"' for w in excluded)
    matches = sa.text(
        "SELECT rowid AS course_id, -bm25(course_fts, 10.0, 4.0, 1.0) AS rank "
        "FROM course_fts WHERE course_fts MATCH :match").bindparams(match=expression).columns(
        course_id=sa.Integer, rank=sa.Float).subquery("matches")
    return stmt.join(matches, matches.c.course_id == SEARCH.c.course_id), matches.c.rank


# --- the search ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CourseCard:
    id: int
    slug: str
    title: str
    subtitle: str
    cover_key: str | None
    creator_id: int
    creator_name: str
    rating_average: float
    rating_count: int
    learners: int
    price_minor: int
    currency: str
    level: str
    duration_seconds: int


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


def search_courses(query: CatalogQuery, *, per_page: int = PER_PAGE, with_facets: bool = True,
                   now: datetime | None = None) -> Results:
    """One page of the public catalog, read from the replica when there is one (replica.py)."""
    now = now or utcnow()
    with replica_reads():
        if _dialect() == "postgresql":
            # A catalog query touches a few thousand rows at most: starting parallel workers
            # costs more than it saves (measured in bench/).
            catalog_session().execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
        wanted, excluded = terms_of(query.q)
        results = _run(query, wanted, excluded, per_page, with_facets, now)
        if results.total == 0 and wanted:
            corrected = correct_terms(wanted)
            if corrected != wanted:
                results = _run(query, corrected, excluded, per_page, with_facets, now)
                results.corrected_q = " ".join(corrected)
    return results


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


FACET_TTL_SECONDS = 60


def cached_facets(base, query: CatalogQuery) -> dict:
    """Facet counts change slowly and cost a scan per filter: keep them a minute in Redis,
    keyed by everything but the page and the sort."""
    import json

    from flask import current_app
    from redis.exceptions import RedisError

    from app.extensions import get_redis, redis_key

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


def cards_for(ids: list[int]) -> list[CourseCard]:
    """Everything a result card shows, for a page of course ids, in one query."""
    if not ids:
        return []
    duration = (sa.select(sa.func.sum(Lesson.duration_seconds)).where(Lesson.course_id == Course.id)
                .correlate(Course).scalar_subquery())
    rows = catalog_session().execute(
        sa.select(Course.id, Course.slug, Course.title, Course.subtitle, MediaAsset.storage_key,
                  Course.creator_id, User.display_name, CourseStats.rating_sum,
                  CourseStats.rating_count, CourseStats.learners, Course.price_minor,
                  Course.currency, Course.level, duration)
        .join(User, User.id == Course.creator_id)
        .outerjoin(CourseStats, CourseStats.course_id == Course.id)
        .outerjoin(MediaAsset, MediaAsset.id == Course.cover_asset_id)
        .where(Course.id.in_(ids))).all()
    by_id = {}
    for (cid, slug, title, subtitle, cover, creator_id, creator_name, rating_sum, rating_count,
         learners, price, currency, level, seconds) in rows:
        count = rating_count or 0
        by_id[cid] = CourseCard(cid, slug, title, subtitle, cover, creator_id, creator_name,
                                (rating_sum or 0) / count if count else 0.0, count, learners or 0,
                                price, currency, level, int(seconds or 0))
    return [by_id[cid] for cid in ids if cid in by_id]


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


# --- "did you mean" ------------------------------------------------------------------------

def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau–Levenshtein distance (adjacent swaps count once), stopping past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def correct_terms(words: list[str]) -> list[str]:
    """Replace each word the vocabulary does not know by its closest known word."""
    corrected = []
    for word in words:
        if len(word) < 3 or catalog_session().get(SearchTerm, word) is not None:
            corrected.append(word)
            continue
        allowed = 1 if len(word) <= 4 else 2
        candidates = catalog_session().execute(
            sa.select(SearchTerm.term, SearchTerm.frequency).where(
                SearchTerm.term.like(word[0] + "%"),
                sa.func.length(SearchTerm.term).between(len(word) - allowed, len(word) + allowed))
        ).all()
        # Also consider a wrong first letter when nothing starting with it is close.
        scored = sorted((edit_distance(word, term, allowed), -frequency, term)
                        for term, frequency in candidates)
        if not scored or scored[0][0] > allowed:
            others = catalog_session().execute(sa.select(SearchTerm.term, SearchTerm.frequency).where(
                SearchTerm.term.like("_" + word[1:3] + "%"))).all()
            scored = sorted((edit_distance(word, term, allowed), -frequency, term)
                            for term, frequency in others)
        corrected.append(scored[0][2] if scored and scored[0][0] <= allowed else word)
    return corrected


def refresh_search_terms(now: datetime | None = None) -> int:
    """Rebuild the vocabulary from published courses (titles, subtitles, categories)."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    rows = db.session.execute(
        sa.select(Course.title, Course.subtitle, Category.name)
        .outerjoin(Category, Category.id == Course.category_id)
        .where(Course.id.in_(visible_courses(now)))
    ).yield_per(2000)
    for title, subtitle, category in rows:
        for text in (title, subtitle, category):
            for word in re.findall(r"\w+", (text or "").lower()):
                if 3 <= len(word) <= 40 and not word.isdigit():
                    counts[word] = counts.get(word, 0) + 1
    db.session.execute(sa.delete(SearchTerm))
    if counts:
        db.session.execute(sa.insert(SearchTerm),
                           [{"term": term, "frequency": n} for term, n in counts.items()])
    return len(counts)
