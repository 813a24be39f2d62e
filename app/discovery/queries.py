"""Who may see which course page and creator page, and the figures shown beside a creator's
courses: catalog rows joined with learning's numbers, which is why they live in discovery.
The pages and the API call the same functions."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.queries import get_user
from app.catalog.models import Course, Section
from app.catalog.permissions import can_preview_course
from app.discovery.search import CatalogQuery, Results, search_courses
from app.errors import NotFound
from app.extensions import db
from app.learning.models import CourseStats
from app.learning.queries import active_enrollment


def viewable_course(actor, slug: str) -> Course:
    """The course at `slug` as `actor` (None: anonymous) may see it: published, or theirs
    to preview (creator, reviewers), or one they are enrolled in (a course taken down keeps
    its learners). Anything else is a 404, so a draft's slug is never confirmed."""
    course = db.session.scalar(
        sa.select(Course).where(Course.slug == slug)
        .options(selectinload(Course.sections).selectinload(Section.lessons)))  # the syllabus: 2 queries
    if course is None or (course.status != "published" and not can_preview_course(actor, course)
                          and active_enrollment(actor, course) is None):
        raise NotFound("There is no such course.")
    return course


def public_creator(creator_id: int, *, per_page: int = 50) -> tuple[User, Results]:
    """A creator and their published courses, best rated first. A suspended creator with
    no course left on show has no public page (404)."""
    creator = get_user(creator_id)
    if creator is None:
        raise NotFound("There is no such creator.")
    results = search_courses(CatalogQuery(creator=creator.id, sort="rating"), per_page=per_page,
                             with_facets=False)
    if not results.cards and creator.is_suspended():
        raise NotFound("There is no such creator.")
    return creator, results


def creator_summary(creator_id: int) -> dict:
    """Published courses, total learners and average rating of a creator's courses."""
    row = db.session.execute(
        sa.select(sa.func.count(Course.id), sa.func.coalesce(sa.func.sum(CourseStats.learners), 0),
                  sa.func.coalesce(sa.func.sum(CourseStats.rating_sum), 0),
                  sa.func.coalesce(sa.func.sum(CourseStats.rating_count), 0))
        .outerjoin(CourseStats, CourseStats.course_id == Course.id)
        .where(Course.creator_id == creator_id, Course.status == "published")).one()
    courses, learners, rating_sum, rating_count = row
    return {"courses": courses, "learners": int(learners), "rating_count": int(rating_count),
            "rating_average": (rating_sum / rating_count) if rating_count else 0.0}
