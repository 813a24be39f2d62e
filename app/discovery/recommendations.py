"""Recommendations, each with the reason it is shown: "learners who took this also took"
on a course page, and "recommended for you" on the home page and dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Course, CourseAffinity
from app.dbtypes import utcnow
from app.discovery.search import CatalogQuery, CourseCard, cards_for, search_courses, visible_courses
from app.extensions import db
from app.learning.models import Enrollment


@dataclass(frozen=True)
class Recommendation:
    card: CourseCard
    reason: str


def also_took(course: Course, *, limit: int = 4, now: datetime | None = None) -> list[CourseCard]:
    now = now or utcnow()
    ids = list(db.session.scalars(
        sa.select(CourseAffinity.other_course_id)
        .where(CourseAffinity.course_id == course.id,
               CourseAffinity.other_course_id.in_(visible_courses(now)))
        .order_by(CourseAffinity.shared_learners.desc(), CourseAffinity.other_course_id)
        .limit(limit)))
    return cards_for(ids)


def for_user(user, *, limit: int = 6, now: datetime | None = None) -> list[Recommendation]:
    """Courses like the ones the learner took (same category or creator, or taken by the same
    learners), never one they own or are enrolled in; trending ones for a cold start."""
    now = now or utcnow()
    taken = []
    excluded: set[int] = set()
    if user is not None and getattr(user, "is_authenticated", False):
        # Only what the learner still has explains a pick; a refunded course is not offered again.
        taken = list(db.session.scalars(
            sa.select(Course).join(Enrollment, Enrollment.course_id == Course.id)
            .where(Enrollment.learner_id == user.id, Enrollment.revoked_at.is_(None))
            .order_by(Enrollment.completed_at.is_(None), Enrollment.enrolled_at.desc()).limit(20)))
        excluded |= set(db.session.scalars(sa.select(Enrollment.course_id)
                                           .where(Enrollment.learner_id == user.id)))
        excluded |= set(db.session.scalars(sa.select(Course.id).where(Course.creator_id == user.id)))
    visible = visible_courses(now)

    scores: dict[int, float] = {}
    reasons: dict[int, str] = {}

    def consider(course_id: int, score: float, reason: str) -> None:
        if course_id in excluded:
            return
        if score > scores.get(course_id, 0):
            reasons[course_id] = reason
        scores[course_id] = scores.get(course_id, 0) + score

    for course in taken:
        for other_id, shared in db.session.execute(
                sa.select(CourseAffinity.other_course_id, CourseAffinity.shared_learners)
                .where(CourseAffinity.course_id == course.id,
                       CourseAffinity.other_course_id.in_(visible))):
            consider(other_id, 3.0 + shared, f"Learners who took “{course.title}” also took this")
        for other_id in db.session.scalars(
                sa.select(Course.id).where(Course.creator_id == course.creator_id,
                                           Course.id.in_(visible)).limit(10)):
            consider(other_id, 2.0, f"More from {course.creator.display_name}, "
                                    f"who made “{course.title}”")
        if course.category_id:
            for other_id in db.session.scalars(
                    sa.select(Course.id).where(Course.category_id == course.category_id,
                                               Course.id.in_(visible)).limit(20)):
                consider(other_id, 1.0, f"Because you took “{course.title}”")

    ranked = sorted(scores, key=lambda cid: (-scores[cid], -cid))[:limit]
    picks = [Recommendation(card, reasons[card.id]) for card in cards_for(ranked)]
    if len(picks) < limit:  # cold start, or not enough: fill with what is trending
        trending = search_courses(CatalogQuery(sort="trending"), per_page=limit + len(excluded) + len(picks),
                                  with_facets=False, now=now)
        chosen = {pick.card.id for pick in picks}
        for card in trending.cards:
            if card.id not in excluded and card.id not in chosen and len(picks) < limit:
                picks.append(Recommendation(card, "Popular with learners right now"))
    return picks
