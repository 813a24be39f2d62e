"""`enroll` and `revoke`: the only way anyone gains or loses access to a course as a learner.
Free enrollment (here), purchases and refunds (money), and admin grants all call these."""
from __future__ import annotations

from datetime import datetime

from app.accounts.models import User
from app.catalog.models import Course
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning import stats
from app.learning.events import EnrollmentCreated, EnrollmentRevoked
from app.learning.models import ENROLLMENT_SOURCES, Enrollment
from app.learning.permissions import can_enroll, can_grant_enrollment
from app.learning.queries import enrollment_for
from app.policy import require


def enroll(actor: User, course: Course, *, source: str = "free", granted_by: User | None = None,
           now: datetime | None = None) -> Enrollment:
    """Enroll `actor` in `course`. Idempotent: enrolling again returns the same enrollment."""
    if source not in ENROLLMENT_SOURCES:
        raise Invalid(f"Unknown enrollment source {source!r}.")
    if actor is not None and getattr(actor, "is_authenticated", False) and course.creator_id == actor.id:
        raise Invalid("You created this course, so it is already yours: open it from the studio.")
    require(can_enroll(actor, course), "enroll in this course")
    if source == "admin":
        require(can_grant_enrollment(granted_by), "grant enrollments")
    enrollment = enrollment_for(actor, course)
    if enrollment is not None and enrollment.is_active:
        return enrollment  # idempotent, even once the course has closed to newcomers
    if source == "free" and course.status != "published":
        raise Conflict("This course is not available for enrollment.")
    if source == "free" and not course.is_free:
        raise Conflict("This is a paid course: buy it to enroll.")
    # A purchase is checked when the checkout starts (commerce.orders.check_buyable); once
    # the provider has taken the money, the buyer gets the course even if it was
    # unpublished or its creator suspended in between.
    now = now or utcnow()
    if enrollment is None:
        enrollment = Enrollment(course_id=course.id, learner_id=actor.id, source=source,
                                enrolled_at=now, last_activity_at=now)
        db.session.add(enrollment)
    else:  # coming back after a refund or a revocation
        enrollment.revoked_at = enrollment.revoke_reason = None
        enrollment.source, enrollment.enrolled_at = source, now
    enrollment.payment_status = "paid" if source == "purchase" else "none"
    db.session.flush()
    stats.bump(course.id, learners=1)
    emit(EnrollmentCreated(enrollment_id=enrollment.id, source=source))
    return enrollment


def revoke(enrollment: Enrollment, *, reason: str, actor: User | None = None,
           payment_status: str | None = None, now: datetime | None = None) -> Enrollment:
    """End access (refund, chargeback, admin). `actor=None` is a system action (a job)."""
    if actor is not None:
        require(can_grant_enrollment(actor), "revoke enrollments")
    if not (reason or "").strip():
        raise Invalid("Give a reason for revoking the enrollment.", field="reason")
    if not enrollment.is_active:
        return enrollment
    enrollment.revoked_at, enrollment.revoke_reason = now or utcnow(), reason.strip()
    if payment_status:
        enrollment.payment_status = payment_status
    stats.bump(enrollment.course_id, learners=-1)
    emit(EnrollmentRevoked(enrollment_id=enrollment.id))
    return enrollment


def access_enrollment(actor: User, enrollment_id: int) -> Enrollment:
    """The actor's own active enrollment; anyone else's (or a revoked one) is a 404."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.learner_id != actor.id or not enrollment.is_active:
        raise NotFound("No such enrollment.")
    return enrollment
