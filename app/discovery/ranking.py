"""Trending scores and "learners also took" (co-enrollment), recomputed by periodic jobs into
`course_stats.trending_score` and `course_affinity`, never on a page request."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.catalog.models import CourseAffinity, Lesson
from app.dbtypes import utcnow
from app.extensions import db
from app.learning import stats
from app.learning.models import CourseStats, Enrollment, LessonProgress, Post, Review, Thread

WINDOW = timedelta(days=14)
HALF_LIFE_DAYS = 3.0
# How much each kind of engagement counts towards trending.
WEIGHTS = {"enrollment": 5.0, "completion": 1.0, "review": 4.0, "post": 2.0}
AFFINITY_PER_COURSE = 12


def _decay(at: datetime, now: datetime) -> float:
    age_days = max((now - at).total_seconds(), 0) / 86400
    return 0.5 ** (age_days / HALF_LIFE_DAYS)


def engagement_events(since: datetime, until: datetime):
    """(course_id, kind, when) for every engagement in the window [since, until]."""
    yield from ((cid, "enrollment", at) for cid, at in db.session.execute(
        sa.select(Enrollment.course_id, Enrollment.enrolled_at)
        .where(Enrollment.enrolled_at.between(since, until))))
    yield from ((cid, "completion", at) for cid, at in db.session.execute(
        sa.select(Lesson.course_id, LessonProgress.completed_at)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.completed_at.between(since, until))))
    yield from ((cid, "review", at) for cid, at in db.session.execute(
        sa.select(Review.course_id, Review.created_at).where(Review.created_at.between(since, until))))
    yield from ((cid, "post", at) for cid, at in db.session.execute(
        sa.select(Thread.course_id, Post.created_at).join(Thread, Thread.id == Post.thread_id)
        .where(Post.created_at.between(since, until), Post.deleted_at.is_(None))))


def trending_scores(now: datetime) -> dict[int, int]:
    """Engagement of the last WINDOW before `now` (nothing after it), halving every
    HALF_LIFE_DAYS."""
    scores: dict[int, float] = defaultdict(float)
    for course_id, kind, at in engagement_events(now - WINDOW, now):
        scores[course_id] += WEIGHTS[kind] * _decay(at, now)
    return {course_id: int(round(score * 1000)) for course_id, score in scores.items()}


def refresh_trending(now: datetime | None = None) -> int:
    """Recompute every course's trending score; courses with no recent activity drop to 0."""
    now = now or utcnow()
    scores = trending_scores(now)
    table = CourseStats.__table__
    db.session.execute(sa.update(table).where(table.c.trending_score != 0).values(trending_score=0))
    for course_id, score in scores.items():
        stats.ensure_stats(course_id)
        db.session.execute(sa.update(table).where(table.c.course_id == course_id)
                           .values(trending_score=score))
    return len(scores)


def refresh_affinity() -> int:
    """"Learners who took this also took": for each course, the courses sharing most learners."""
    mine, theirs = sa.orm.aliased(Enrollment), sa.orm.aliased(Enrollment)
    rows = db.session.execute(
        sa.select(mine.course_id, theirs.course_id, sa.func.count())
        .join(theirs, sa.and_(theirs.learner_id == mine.learner_id, theirs.course_id != mine.course_id))
        .where(mine.revoked_at.is_(None), theirs.revoked_at.is_(None))
        .group_by(mine.course_id, theirs.course_id)).all()
    best: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for course_id, other_id, shared in rows:
        best[course_id].append((shared, other_id))
    db.session.execute(sa.delete(CourseAffinity))
    values = [{"course_id": cid, "other_course_id": other, "shared_learners": shared}
              for cid, pairs in best.items()
              for shared, other in sorted(pairs, reverse=True)[:AFFINITY_PER_COURSE]]
    if values:
        db.session.execute(sa.insert(CourseAffinity), values)
    return len(values)


