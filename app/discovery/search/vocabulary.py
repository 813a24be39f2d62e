"""The vocabulary of published courses (`search_term`: every word of their titles, subtitles
and categories, with how often it appears), and the two uses the search makes of it.

- Prefixes: a word the vocabulary does not know is widened to the known words it starts
  (`expansions`), because a stemmed prefix is not always a prefix of the stemmed word.
- "Did you mean": when a query finds nothing, each unknown word is replaced by its closest
  known word (`correct_terms`) and the search runs again.

`refresh_search_terms` rebuilds it (a periodic job, jobs/discovery.py).
"""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Category, Course, SearchTerm
from app.dbtypes import utcnow
from app.discovery.replica import catalog_session
from app.discovery.search.table import visible_courses
from app.extensions import db

MAX_EXPANSIONS = 10


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


# --- building it ---------------------------------------------------------------------------

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
