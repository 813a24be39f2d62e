"""Course aggregates (learners, rating count/sum/histogram, smoothed score), in one place.

Every change is an atomic `UPDATE … SET n = n + delta` in the caller's transaction, so two
learners enrolling or reviewing at once never lose a count.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.dbtypes import insert_on_conflict
from app.extensions import db
from app.learning.models import CourseStats

# Bayesian smoothing: every course starts as if it had PRIOR_WEIGHT reviews of PRIOR_MEAN
# stars, so one 5-star review does not outrank many 4.5-star ones.
PRIOR_WEIGHT = 5
PRIOR_MEAN_MILLI = 3500


def ensure_stats(course_id: int) -> None:
    db.session.execute(insert_on_conflict(CourseStats).values(course_id=course_id)
                       .on_conflict_do_nothing(index_elements=["course_id"]))


def bump(course_id: int, **deltas: int) -> None:
    """Add `deltas` (column -> change) to the course's aggregates and refresh the score."""
    ensure_stats(course_id)
    table = CourseStats.__table__
    values = {table.c[name]: table.c[name] + delta for name, delta in deltas.items() if delta}
    if values:
        db.session.execute(sa.update(table).where(table.c.course_id == course_id).values(values))
    # `//`: integer division on every database, as in `smoothed_score` (SQLAlchemy's `/`
    # divides as NUMERIC/REAL, which PostgreSQL then rounds and SQLite stores as a float).
    db.session.execute(sa.update(table).where(table.c.course_id == course_id).values(
        rating_score=(PRIOR_WEIGHT * PRIOR_MEAN_MILLI + table.c.rating_sum * 1000)
        // (PRIOR_WEIGHT + table.c.rating_count)))
    stats = db.session.get(CourseStats, course_id)
    if stats is not None:
        db.session.refresh(stats)


def smoothed_score(rating_sum: int, rating_count: int) -> int:
    """The same formula in Python (for tests and explanations), × 1000."""
    return (PRIOR_WEIGHT * PRIOR_MEAN_MILLI + rating_sum * 1000) // (PRIOR_WEIGHT + rating_count)


def stats_for(course_id: int) -> CourseStats:
    return db.session.get(CourseStats, course_id) or CourseStats(
        course_id=course_id, learners=0, rating_count=0, rating_sum=0, rating_1=0, rating_2=0,
        rating_3=0, rating_4=0, rating_5=0, rating_score=smoothed_score(0, 0))
