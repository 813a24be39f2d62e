"""SQLite's side of the full-text search: the FTS5 table `course_fts` (kept by triggers,
migration 0004), matched with a bound `MATCH` expression and ranked by bm25 (title 10,
subtitle and category 4, the rest 1).

The same contract as postgres.py, for development and the embedded test run. The words
arrive as plain words (query.py), each quoted, so no FTS5 syntax can come from a visitor.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.discovery.search.query import MIN_PREFIX
from app.discovery.search.table import SEARCH


def match_text(stmt, groups: list[list[str]], excluded: list[str]):
    """`stmt` (a select from SEARCH) narrowed to the courses where every group matches one of
    its words and no excluded word appears, and the rank of a match (None without groups:
    then every course that has none of the excluded words)."""
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
