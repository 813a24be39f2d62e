"""Course reviews: a course's reviews for anyone (as the reviews page shows them), and my own
review of a course: write or rewrite it (enrolled learners, never the creator), or take it
back. The same services as the reviews page (blueprints/learn/)."""
from __future__ import annotations

from flask import g
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.keysets import cursor_after, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Time
from app.errors import NotFound
from app.extensions import db
from app.learning import reviews
from app.learning.models import Review
from app.learning.stats import stats_for

TAG = "Reviews"


class CourseReview(ApiModel):
    id: int
    course_id: int
    author_name: str = Field(description="The learner's display name")
    rating: int = Field(ge=1, le=5)
    body: str
    progress_percent: int = Field(description="How much of the course the learner had completed when writing")
    created_at: Time
    updated_at: Time
    reply: str | None = Field(description="The creator's one reply")
    replied_at: Time | None


class StarCount(ApiModel):
    stars: int
    count: int


class CourseReviewList(Page):
    items: list[CourseReview]
    rating_average: float = Field(description="0 when nobody has rated it")
    rating_count: int
    histogram: list[StarCount] = Field(description="From 5 stars down to 1")


class ReviewWrite(ApiModel):
    rating: int = Field(ge=1, le=5, description="Whole stars")
    body: str = Field("", max_length=reviews.BODY_MAX, description="Optional words")


@bp.get("/courses/<int:course_id>/reviews")
@operation(tags=[TAG], query=CursorQuery, model=CourseReviewList, not_found=True, optional_token=True)
def review_list(course_id: int, query: CursorQuery):
    """A course's reviews

    The latest written or edited first, with the rating summary. A published course's for
    anyone; a course that is not public only for its creator and its learners."""
    actor = g.api_grant.user if g.api_grant else None
    course = reviews.access_course_reviews(actor, course_id)
    rows = reviews.reviews_page(course, after=position_after(query, "reviews"), limit=query.limit + 1)
    stats = stats_for(course.id)
    return CourseReviewList(
        items=[_review(row) for row in rows[:query.limit]],
        next_cursor=cursor_after(rows, query.limit, "reviews", lambda row: row.updated_at),
        rating_average=round(stats.average, 2), rating_count=stats.rating_count,
        histogram=[StarCount(stars=stars, count=count) for stars, count in stats.histogram.items()])


@bp.get("/courses/<int:course_id>/reviews/mine")
@operation(tags=[TAG], scope="read", model=CourseReview, not_found=True)
def review_mine(course_id: int):
    """My review of a course

    A 404 until I write one."""
    user = g.api_grant.user
    return _review(_mine(user, reviews.access_course_reviews(user, course_id)))


@bp.put("/courses/<int:course_id>/reviews/mine")
@operation(tags=[TAG], scope="learn", json=ReviewWrite, model=CourseReview, not_found=True)
def review_write(course_id: int, json: ReviewWrite):
    """Write or rewrite my review

    Enrolled learners review a course, once each (writing again changes it); its creator
    never reviews their own."""
    user = g.api_grant.user
    review = reviews.write_review(user, reviews.access_course_reviews(user, course_id),
                                  rating=json.rating, body=json.body)
    db.session.commit()
    return _review(review)


@bp.delete("/courses/<int:course_id>/reviews/mine")
@operation(tags=[TAG], scope="learn", ok=204, not_found=True)
def review_delete(course_id: int):
    """Take my review back

    The course's rating loses it at once."""
    user = g.api_grant.user
    reviews.delete_review(user, reviews.access_course_reviews(user, course_id))
    db.session.commit()
    return "", 204


def _mine(user, course) -> Review:
    review = reviews.review_of(user, course)
    if review is None:
        raise NotFound("You have not reviewed this course.")
    return review


def _review(review: Review) -> CourseReview:
    return CourseReview(
        id=review.id, course_id=review.course_id, author_name=review.learner.display_name, rating=review.rating,
        body=review.body, progress_percent=review.progress_percent, created_at=review.created_at,
        updated_at=review.updated_at, reply=review.reply, replied_at=review.replied_at)
