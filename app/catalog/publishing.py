"""The publishing workflow: draft → under_review → published (or rejected back to draft);
published → unpublished (creator or admin); unpublished → under_review again.

Every reviewer decision and every admin unpublish is written to the audit log, and the
creator is told through `notify`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.models import User
from app.catalog.errors import ChecklistFailed, IllegalTransition
from app.catalog.events import CoursePublished, CourseReviewed, CourseSubmitted, CourseUnpublished
from app.catalog.models import Course, ReviewDecision
from app.catalog.permissions import can_edit_course, can_review_course, can_unpublish_course
from app.dbtypes import utcnow
from app.errors import Invalid
from app.events import emit
from app.extensions import db
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.policy import require

DESCRIPTION_MIN = 200
MIN_LESSONS = 3

REJECTION_REASONS = {
    "quality": "Video or audio quality is too low",
    "incomplete": "Lessons are missing content or the course feels unfinished",
    "misleading": "The title or description does not match the content",
    "copyright": "Contains material the creator may not have the rights to",
    "policy": "Breaks the content policy",
    "pricing": "The price does not fit what is offered",
}


@dataclass(frozen=True)
class ChecklistItem:
    ok: bool
    message: str
    anchor: str  # where in the editor to fix it


def checklist(course: Course) -> list[ChecklistItem]:
    lessons = course.lessons
    items = [
        ChecklistItem(bool(course.title.strip()), "The course has a title", "field-title"),
        ChecklistItem(len(course.description.strip()) >= DESCRIPTION_MIN,
                      f"The description has at least {DESCRIPTION_MIN} characters "
                      f"(now {len(course.description.strip())})", "field-description"),
        ChecklistItem(course.cover is not None, "The course has a cover image", "cover"),
        ChecklistItem(course.category_id is not None, "The course has a category", "field-category_id"),
        ChecklistItem(bool(course.sections), "The course has at least one section", "curriculum"),
        ChecklistItem(len(lessons) >= MIN_LESSONS,
                      f"The course has at least {MIN_LESSONS} lessons (now {len(lessons)})",
                      "curriculum"),
    ]
    for lesson in lessons:
        if not lesson_has_content(lesson):
            items.append(ChecklistItem(False, f"Lesson “{lesson.title}” has no content yet",
                                       f"lesson-{lesson.id}"))
        if lesson.kind == "quiz" and lesson.quiz is not None:
            for question in lesson.quiz.questions:
                if not any(option.is_correct for option in question.options):
                    items.append(ChecklistItem(
                        False, f"A question in quiz “{lesson.title}” has no correct answer",
                        f"lesson-{lesson.id}"))
    return items


def lesson_has_content(lesson) -> bool:
    if lesson.kind == "text":
        return bool(lesson.body.strip())
    if lesson.kind in ("video", "pdf"):
        return lesson.media is not None
    if lesson.kind == "quiz":
        return lesson.quiz is not None and bool(lesson.quiz.questions) and all(
            len(q.options) >= 2 for q in lesson.quiz.questions)
    return False


def failures(course: Course) -> list[ChecklistItem]:
    return [item for item in checklist(course) if not item.ok]


def submit_for_review(actor: User, course: Course, *, now: datetime | None = None) -> Course:
    require(can_edit_course(actor, course), "submit this course")
    if course.status not in ("draft", "unpublished"):
        raise IllegalTransition("Only a draft or an unpublished course can be submitted "
                                f"(this one is {course.status.replace('_', ' ')}).")
    missing = failures(course)
    if missing:
        raise ChecklistFailed(missing)
    course.status, course.submitted_at = "under_review", now or utcnow()
    emit(CourseSubmitted(course_id=course.id))
    return course


def withdraw_submission(actor: User, course: Course) -> Course:
    require(can_edit_course(actor, course), "withdraw this course")
    if course.status != "under_review":
        raise IllegalTransition("This course is not waiting for review.")
    course.status = "unpublished" if course.published_at else "draft"
    course.submitted_at = None
    return course


def _under_review(course: Course) -> None:
    if course.status != "under_review":
        raise IllegalTransition("This course is not waiting for review.")


def approve_course(actor: User, course: Course, *, now: datetime | None = None,
                   ip: str | None = None) -> Course:
    require(can_review_course(actor, course), "review this course")
    _under_review(course)
    now = now or utcnow()
    course.status, course.published_at, course.unpublished_at = "published", now, None
    decision = ReviewDecision(reviewer_id=actor.id, decision="approved", created_at=now,
                              submitted_at=course.submitted_at)
    course.decisions.insert(0, decision)
    record_audit(actor, "course.approved", course, before={"status": "under_review"},
                 after={"status": "published"}, ip=ip)
    notify(course.creator, "course.approved", course_id=course.id, title=course.title)
    db.session.flush()
    emit(CourseReviewed(decision_id=decision.id))
    emit(CoursePublished(course_id=course.id))
    return course


def reject_course(actor: User, course: Course, *, reasons: list[str], note: str = "",
                  now: datetime | None = None, ip: str | None = None) -> Course:
    require(can_review_course(actor, course), "review this course")
    _under_review(course)
    unknown = [r for r in reasons if r not in REJECTION_REASONS]
    if unknown:
        raise Invalid("Choose reasons from the list.", field="reasons")
    note = (note or "").strip()
    if not reasons and not note:
        raise Invalid("Give the creator at least one reason.", field="reasons")
    if len(note) > 5000:
        raise Invalid("Keep the note under 5,000 characters.", field="note")
    course.status = "unpublished" if course.published_at else "draft"
    decision = ReviewDecision(reviewer_id=actor.id, decision="rejected", reasons=list(reasons),
                              note=note, created_at=now or utcnow(), submitted_at=course.submitted_at)
    course.submitted_at = None
    course.decisions.insert(0, decision)
    record_audit(actor, "course.rejected", course, before={"status": "under_review"},
                 after={"status": course.status, "reasons": list(reasons)}, reason=note, ip=ip)
    notify(course.creator, "course.rejected", course_id=course.id, title=course.title,
           reasons=[REJECTION_REASONS[r] for r in reasons], note=note)
    db.session.flush()
    emit(CourseReviewed(decision_id=decision.id))
    return course


def unpublish_course(actor: User, course: Course, *, reason: str = "",
                     now: datetime | None = None, ip: str | None = None) -> Course:
    """Take a course out of the catalog; learners already enrolled keep their access."""
    require(can_unpublish_course(actor, course), "unpublish this course")
    if course.status != "published":
        raise IllegalTransition("Only a published course can be unpublished.")
    by_admin = actor.id != course.creator_id
    reason = (reason or "").strip()
    if by_admin and not reason:  # checked before anything changes
        raise Invalid("Tell the creator why the course is unpublished.", field="reason")
    course.status, course.unpublished_at = "unpublished", now or utcnow()
    if by_admin:
        record_audit(actor, "course.unpublished", course, before={"status": "published"},
                     after={"status": "unpublished"}, reason=reason, ip=ip)
        notify(course.creator, "course.unpublished", course_id=course.id, title=course.title,
               reason=reason)
    emit(CourseUnpublished(course_id=course.id))
    return course
