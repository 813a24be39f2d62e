"""Course reviews: one per enrolled learner (editable), one reply from the creator."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Course
from app.catalog.queries import get_course
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning import stats
from app.learning.events import ReviewDeleted, ReviewRerated, ReviewWritten
from app.learning.models import Review
from app.learning.permissions import (
    can_delete_review,
    can_rate_course,
    can_remove_review,
    can_reply_to_review,
)
from app.learning.progress import progress_percent
from app.learning.queries import active_enrollment, newest_first
from app.messaging.notifications import notify
from app.policy import require

BODY_MAX = 5000


def _clean_rating(rating) -> int:
    try:
        value = int(rating)
    except (TypeError, ValueError):
        raise Invalid("Choose a rating from 1 to 5 stars.", field="rating") from None
    if not 1 <= value <= 5 or str(rating).strip() not in {str(value), f"{value}.0"}:
        raise Invalid("Choose a rating from 1 to 5 stars.", field="rating")
    return value


def review_of(user, course: Course) -> Review | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Review).where(Review.course_id == course.id,
                                                     Review.learner_id == user.id))


def write_review(actor, course: Course, *, rating, body: str = "",
                 now: datetime | None = None) -> Review:
    """Create or update the actor's review; aggregates change in the same transaction."""
    enrollment = active_enrollment(actor, course)
    if course.creator_id == getattr(actor, "id", None):
        raise Invalid("You cannot review your own course.")
    require(can_rate_course(actor, course, enrolled=enrollment is not None), "review this course")
    rating = _clean_rating(rating)
    body = (body or "").strip()
    if len(body) > BODY_MAX:
        raise Invalid(f"Keep your review under {BODY_MAX:,} characters.", field="body")
    now = now or utcnow()
    review = review_of(actor, course)
    if review is None:
        review = Review(course_id=course.id, learner_id=actor.id, rating=rating, body=body,
                        progress_percent=progress_percent(enrollment), created_at=now, updated_at=now)
        db.session.add(review)
        db.session.flush()
        stats.bump(course.id, rating_count=1, rating_sum=rating, **{f"rating_{rating}": 1})
        emit(ReviewWritten(review_id=review.id, course_id=course.id, rating=rating, written_at=review.created_at))
        notify(course.creator, "review.created", course_id=course.id, title=course.title,
               rating=rating, author=actor.display_name)
    else:
        old = review.rating
        review.rating, review.body, review.updated_at = rating, body, now
        review.progress_percent = progress_percent(enrollment)
        if old != rating:
            stats.bump(course.id, rating_sum=rating - old,
                       **{f"rating_{old}": -1, f"rating_{rating}": 1})
            emit(ReviewRerated(review_id=review.id, course_id=course.id, old_rating=old, new_rating=rating,
                               written_at=review.created_at))
    return review


def access_course_reviews(actor, course_id: int) -> Course:
    """The course whose reviews `actor` may read: a published one for anyone; one that is not
    public (a draft, or taken down) only for its creator and its learners (else a 404)."""
    course = get_course(course_id)
    if course.status != "published" and not (
            getattr(actor, "is_authenticated", False)
            and (course.creator_id == actor.id or active_enrollment(actor, course) is not None)):
        raise NotFound("No such course.")
    return course


def delete_review(actor, course: Course) -> None:
    """The author takes their own review back; the course's aggregates lose its rating."""
    review = review_of(actor, course)
    if review is None:
        raise NotFound("You have not reviewed this course.")
    require(can_delete_review(actor, review), "delete this review")
    _remove(review)


def access_review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound("No such review.")
    return review


def reply_to_review(actor, review: Review, *, text: str, now: datetime | None = None) -> Review:
    if review.reply is not None and review.course.creator_id == getattr(actor, "id", None):
        raise Conflict("You already replied to this review.")
    require(can_reply_to_review(actor, review), "reply to this review")
    text = (text or "").strip()
    if not text:
        raise Invalid("Write your reply.", field="reply")
    if len(text) > BODY_MAX:
        raise Invalid(f"Keep your reply under {BODY_MAX:,} characters.", field="reply")
    review.reply, review.replied_at = text, now or utcnow()
    notify(review.learner, "review.replied", course_id=review.course_id, title=review.course.title)
    return review


def moderator_delete_review(actor, review: Review) -> None:
    """A moderator removes a review (and the creator's reply); the course's aggregates lose
    its rating in the same transaction. The caller audits it with the text."""
    require(can_remove_review(actor, review), "remove this review")
    _remove(review)


def _remove(review: Review) -> None:
    rating = review.rating
    stats.bump(review.course_id, rating_count=-1, rating_sum=-rating, **{f"rating_{rating}": -1})
    emit(ReviewDeleted(course_id=review.course_id, rating=rating, written_at=review.created_at))
    db.session.delete(review)
    db.session.flush()


def list_reviews(course: Course, *, page: int = 1, per_page: int = 10):
    stmt = (sa.select(Review).where(Review.course_id == course.id)
            .order_by(Review.updated_at.desc(), Review.id.desc()))
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def reviews_page(course: Course, *, after: tuple[datetime, int] | None = None, limit: int = 20) -> list[Review]:
    """The course's reviews in `list_reviews`' order (latest written or edited first), by keyset."""
    stmt = sa.select(Review).where(Review.course_id == course.id)
    return newest_first(stmt, Review.updated_at, Review.id, after, limit)
