"""The public catalog's one search interface: text query, filters, sorts, facets, pages.

Two backends answer the same contract, chosen by the database: PostgreSQL full-text search
(weighted tsvector in `course_search`, GIN index) and SQLite FTS5 (`course_fts`); both
tables are kept up to date by triggers (migration 0004). Query text only ever travels as a
bound parameter, reduced to plain words first. When a query finds nothing, its words are
corrected against the vocabulary of published courses ("did you mean") and searched again.
Only published courses of creators who are not suspended appear.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import LANGUAGES, LEVELS, Category, Course, Lesson, MediaAsset, SearchTerm
from app.dbtypes import utcnow
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
    return wanted, excluded


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def expansions(words: list[str]) -> dict[str, list[str]]:
    """For each word the vocabulary does not know, the known words it starts. Both backends
    stem the query, and a stemmed prefix is not always a prefix of the stemmed word ("analy"
    stems to "anali", "analysis" to "analysi"), so a prefix also matches the whole words it
    starts. A known word is left alone: its stem already matches."""
    candidates = [word for word in dict.fromkeys(words) if len(word) >= 3]
    if not candidates:
        return {}
    known = set(db.session.scalars(sa.select(SearchTerm.term).where(SearchTerm.term.in_(candidates))))
    return {word: list(db.session.scalars(
        sa.select(SearchTerm.term).where(SearchTerm.term.startswith(word, autoescape=True))
        .order_by(SearchTerm.frequency.desc(), SearchTerm.term).limit(MAX_EXPANSIONS)))
        for word in candidates if word not in known}


def text_match(wanted: list[str], excluded: list[str]):
    """A subquery (course_id, rank) of courses matching the words; higher rank is better.
    Without wanted words, every course that has none of the excluded words (rank 0)."""
    more = expansions(wanted)
    groups = [[word, *more.get(word, [])] for word in wanted]
    if _dialect() == "postgresql":
        expression = " & ".join("(" + " | ".join(f"{w}:*" for w in group) + ")" for group in groups)
        if not groups:
            unwanted = " | ".join(excluded)
            return sa.text(
                "SELECT c.id AS course_id, 0.0 AS rank FROM course c WHERE NOT EXISTS ("
                "SELECT 1 FROM course_search cs WHERE cs.course_id = c.id "
                "AND cs.document @@ to_tsquery('english', :tsq))").bindparams(
                tsq=unwanted).columns(course_id=sa.Integer, rank=sa.Float).subquery("matches")
        expression += "".join(f" & !{w}" for w in excluded)
        return sa.text(
            "SELECT cs.course_id AS course_id, "
            "ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', cs.document, query) AS rank "
            "FROM course_search cs, to_tsquery('english', :tsq) query "
            "WHERE cs.document @@ query").bindparams(tsq=expression).columns(
            course_id=sa.Integer, rank=sa.Float).subquery("matches")
    expression = " AND ".join("(" + " OR ".join(f'"{w}"*' for w in group) + ")" for group in groups)
    if not groups:
        unwanted = " OR ".join(f'"{w}"' for w in excluded)
        return sa.text(
            "SELECT c.id AS course_id, 0.0 AS rank FROM course c WHERE c.id NOT IN ("
            "SELECT rowid FROM course_fts WHERE course_fts MATCH :match)").bindparams(
            match=unwanted).columns(course_id=sa.Integer, rank=sa.Float).subquery("matches")
    expression += "".join(f' NOT "{w}"' for w in excluded)
    return sa.text(
        "SELECT rowid AS course_id, -bm25(course_fts, 10.0, 4.0, 1.0) AS rank "
        "FROM course_fts WHERE course_fts MATCH :match").bindparams(match=expression).columns(
        course_id=sa.Integer, rank=sa.Float).subquery("matches")


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


def visible_courses(now: datetime):
    """Published courses whose creator is not suspended (the catalog's base set)."""
    return (sa.select(Course.id)
            .join(User, User.id == Course.creator_id)
            .outerjoin(CourseStats, CourseStats.course_id == Course.id)
            .where(Course.status == "published",
                   sa.or_(User.suspended_at.is_(None), User.suspended_until <= now)))


def apply_filters(stmt, query: CatalogQuery, *, skip: str = ""):
    if query.price == "free" and skip != "price":
        stmt = stmt.where(Course.price_minor == 0)
    elif query.price == "paid" and skip != "price":
        stmt = stmt.where(Course.price_minor > 0)
    # The price range stays on for the free/paid facet: choosing "Paid" keeps the range.
    if query.min_price is not None:
        stmt = stmt.where(Course.price_minor >= query.min_price)
    if query.max_price is not None:
        stmt = stmt.where(Course.price_minor <= query.max_price)
    if query.min_rating and skip != "rating":
        stmt = stmt.where(CourseStats.rating_count > 0,
                          CourseStats.rating_sum >= query.min_rating * CourseStats.rating_count)
    if query.category and skip != "category":
        stmt = stmt.where(Course.category_id == sa.select(Category.id).where(
            Category.slug == query.category).scalar_subquery())
    if query.creator:
        stmt = stmt.where(Course.creator_id == query.creator)
    if query.level and skip != "level":
        stmt = stmt.where(Course.level == query.level)
    if query.language and skip != "language":
        stmt = stmt.where(Course.language == query.language)
    return stmt


def _order(stmt, sort: str, matches):
    key = {
        "relevance": (matches.c.rank.desc(),) if matches is not None else (),
        "trending": (sa.func.coalesce(CourseStats.trending_score, 0).desc(),),
        "newest": (Course.published_at.desc(),),
        # A course nobody has enrolled in has no stats row yet: it ranks as the prior does.
        "rating": (sa.func.coalesce(CourseStats.rating_score, smoothed_score(0, 0)).desc(),),
        "price": (Course.price_minor.asc(),),
    }[sort]
    tie = Course.id.asc() if sort == "price" else Course.id.desc()
    return stmt.order_by(*key, tie)  # the id makes pages stable when scores tie


def search_courses(query: CatalogQuery, *, per_page: int = PER_PAGE, with_facets: bool = True,
                   now: datetime | None = None) -> Results:
    now = now or utcnow()
    if _dialect() == "postgresql":
        # A catalog query touches a few thousand rows at most: starting parallel workers
        # costs more than it saves (measured in bench/).
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    wanted, excluded = terms_of(query.q)
    results = _run(query, wanted, excluded, per_page, with_facets, now)
    if results.total == 0 and wanted:
        corrected = correct_terms(wanted)
        if corrected != wanted:
            results = _run(query, corrected, excluded, per_page, with_facets, now)
            results.corrected_q = " ".join(corrected)
    return results


def _run(query, wanted, excluded, per_page, with_facets, now) -> Results:
    base = visible_courses(now)
    matches = None
    if wanted or excluded:
        matches = text_match(wanted, excluded)
        base = base.join(matches, matches.c.course_id == Course.id)
    filtered = apply_filters(base, query)
    sort = query.effective_sort
    if sort == "relevance" and not wanted:  # nothing to rank by (only `-word`s, or symbols)
        sort = "trending"
    page = query.page
    ids, total = _page(filtered, sort, matches, page, per_page)
    if not ids and page > 1:  # past the last page: show the last one
        total = db.session.scalar(sa.select(sa.func.count()).select_from(filtered.subquery())) or 0
        page = max((total + per_page - 1) // per_page, 1)
        ids, total = _page(filtered, sort, matches, page, per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    facets = cached_facets(base, query) if with_facets else {}
    return Results(query=query, cards=cards_for(ids), total=total, page=min(page, pages), pages=pages,
                   facets=facets)


def _page(filtered, sort, matches, page, per_page) -> tuple[list[int], int]:
    """One page of ids and the total count, in one query (a window count)."""
    stmt = (_order(filtered.add_columns(sa.func.count().over().label("total")), sort, matches)
            .limit(per_page).offset((page - 1) * per_page))
    rows = db.session.execute(stmt).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


FACET_TTL_SECONDS = 60


def cached_facets(base, query: CatalogQuery) -> dict:
    """Facet counts change slowly and cost a scan per filter: keep them a minute in Redis,
    keyed by everything but the page and the sort."""
    import json

    from flask import current_app
    from redis.exceptions import RedisError

    from app.extensions import get_redis

    if not current_app.config.get("FACET_CACHE_ENABLED", True):
        return facet_counts(base, query)
    key = "lyceum:facets:" + json.dumps(query.to_args(page=1, sort=""), sort_keys=True)
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
    """Everything a result card shows, for a page of course ids, in two queries."""
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(Course.id, Course.slug, Course.title, Course.subtitle, MediaAsset.storage_key,
                  Course.creator_id, User.display_name, CourseStats.rating_sum,
                  CourseStats.rating_count, CourseStats.learners, Course.price_minor,
                  Course.currency, Course.level)
        .join(User, User.id == Course.creator_id)
        .outerjoin(CourseStats, CourseStats.course_id == Course.id)
        .outerjoin(MediaAsset, MediaAsset.id == Course.cover_asset_id)
        .where(Course.id.in_(ids))).all()
    durations = dict(db.session.execute(
        sa.select(Lesson.course_id, sa.func.sum(Lesson.duration_seconds))
        .where(Lesson.course_id.in_(ids)).group_by(Lesson.course_id)).all())
    by_id = {}
    for (cid, slug, title, subtitle, cover, creator_id, creator_name, rating_sum, rating_count,
         learners, price, currency, level) in rows:
        count = rating_count or 0
        by_id[cid] = CourseCard(cid, slug, title, subtitle, cover, creator_id, creator_name,
                                (rating_sum or 0) / count if count else 0.0, count, learners or 0,
                                price, currency, level, int(durations.get(cid) or 0))
    return [by_id[cid] for cid in ids if cid in by_id]


def facet_counts(base, query: CatalogQuery) -> dict[str, list[tuple[str, str, int]]]:
    """For each filter, its values with how many results each would give (the other filters
    applied, not its own)."""
    def grouped(column, skip):
        sub = apply_filters(base.add_columns(column.label("value")), query, skip=skip).subquery()
        return dict(db.session.execute(
            sa.select(sub.c.value, sa.func.count()).group_by(sub.c.value)).all())

    categories = {c.id: c for c in db.session.scalars(sa.select(Category))}
    by_category = grouped(Course.category_id, "category")
    by_level = grouped(Course.level, "level")
    by_language = grouped(Course.language, "language")
    by_price = grouped(sa.case((Course.price_minor == 0, "free"), else_="paid"), "price")
    stars = sa.case((CourseStats.rating_count > 0,
                     sa.func.floor(CourseStats.rating_sum * 1.0 / CourseStats.rating_count)),
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
        if len(word) < 3 or db.session.get(SearchTerm, word) is not None:
            corrected.append(word)
            continue
        allowed = 1 if len(word) <= 4 else 2
        candidates = db.session.execute(
            sa.select(SearchTerm.term, SearchTerm.frequency).where(
                SearchTerm.term.like(word[0] + "%"),
                sa.func.length(SearchTerm.term).between(len(word) - allowed, len(word) + allowed))
        ).all()
        # Also consider a wrong first letter when nothing starting with it is close.
        scored = sorted((edit_distance(word, term, allowed), -frequency, term)
                        for term, frequency in candidates)
        if not scored or scored[0][0] > allowed:
            others = db.session.execute(sa.select(SearchTerm.term, SearchTerm.frequency).where(
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
