"""Result cards: everything a course card in a listing shows (cover, creator, rating,
learners, price, length), for a page of course ids, read in one query.

The search finds ids in `course_search`; the cards come from the tables themselves, so a
page costs one query however many results it shows. Recommendations use the same cards.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Course, Lesson, MediaAsset
from app.discovery.replica import catalog_session
from app.learning.models import CourseStats


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
