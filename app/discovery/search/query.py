"""What a visitor asked the catalog for: the query string read into a `CatalogQuery`, and its
text reduced to plain words.

Everything here is input handling and nothing touches the search table: `parse_query` drops
nonsense with a note (never a 500), `CatalogQuery` turns a state back into links, and
`terms_of` gives the backends (postgres.py, sqlite.py) the only text they ever see, which then
travels as a bound parameter.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

import sqlalchemy as sa

from app.catalog.models import LANGUAGES, LEVELS, Category
from app.extensions import db

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


# --- the words of the text --------------------------------------------------------------

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
# A single letter is matched as a whole word, never as a prefix: "c" finds "C", not every
# word starting with c (a few such letters made any course match and every match cost a
# full ranking: seconds at 100,000 courses). Both backends follow this.
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
