"""PostgreSQL's side of the full-text search: a weighted `tsvector` in `course_search.document`
(GIN index; title A, subtitle and category B, description and lesson titles C), queried with
`to_tsquery` and ranked by cover density within a budget.

The words arrive already reduced to plain words (query.py) and widened by the vocabulary
(vocabulary.py); they only ever travel as bound parameters. sqlite.py answers the same
contract with FTS5.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.discovery.search.query import MIN_PREFIX
from app.discovery.search.table import SEARCH

# PostgreSQL ranks by cover density (`ts_rank_cd`), whose cost grows with the words asked and
# the number of matches: a few common words matching most of 100,000 courses took seconds.
# So it ranks at most RANK_BUDGET // (words asked) matches (8,000 for one word, 1,000 for
# eight); a broader query is ordered by where its words all appear instead: every word in
# the title first, then every word in title, subtitle or category, then the rest.
RANK_BUDGET = 8_000
RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"  # D (unused), C (description, lessons), B, A (title)


def prepare(session: Session) -> None:
    """Settings for the transaction a catalog search runs in."""
    # A catalog query touches a few thousand rows at most: starting parallel workers costs
    # more than it saves (measured in bench/).
    session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))


def tsquery_of(groups: list[list[str]], excluded: list[str], weights: str = "") -> str:
    """PostgreSQL: every group must match one of its prefixes (in the sections `weights`
    names, or anywhere), and no excluded word."""
    marks = (":*" + weights, ":" + weights if weights else "")
    expression = " & ".join("(" + " | ".join(w + marks[len(w) < MIN_PREFIX] for w in group) + ")"
                            for group in groups)
    return expression + "".join(f" & !{w}" for w in excluded)


def _relevance(groups: list[list[str]], tsquery, rank_budget: int):
    """Cover-density rank when there are few enough matches to afford it, else the tier."""
    def found_in(weights: str):
        matched = SEARCH.c.document.op("@@")(sa.func.to_tsquery("english", tsquery_of(groups, [], weights)))
        return sa.cast(matched, sa.Integer)

    tier = found_in("A") * 2 + found_in("AB")
    exact = sa.func.ts_rank_cd(sa.literal_column(RANK_WEIGHTS), SEARCH.c.document, tsquery,
                               type_=sa.Float)
    window = max(rank_budget // sum(len(group) for group in groups), 1)
    return sa.case((sa.func.count().over() <= window, exact), else_=sa.cast(tier, sa.Float))


def match_text(stmt, groups: list[list[str]], excluded: list[str], *, rank_budget: int = RANK_BUDGET):
    """`stmt` (a select from SEARCH) narrowed to the courses where every group matches one of
    its words and no excluded word appears, and the rank of a match (None without groups:
    then every course that has none of the excluded words)."""
    if not groups:
        unwanted = sa.func.to_tsquery("english", " | ".join(excluded))
        inner = sa.table("course_search", sa.column("course_id"), sa.column("document")).alias("unwanted")
        return stmt.where(SEARCH.c.course_id.not_in(
            sa.select(inner.c.course_id).where(inner.c.document.op("@@")(unwanted)))), None
    tsquery = sa.func.to_tsquery("english", tsquery_of(groups, excluded))
    return stmt.where(SEARCH.c.document.op("@@")(tsquery)), _relevance(groups, tsquery, rank_budget)
