"""The facts about learners' enrolments that other domains react to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.events import Event


@dataclass(frozen=True)
class EnrollmentCreated(Event, name="learning.enrollment.created"):
    enrollment_id: int
    source: str  # one of learning.models.ENROLLMENT_SOURCES


@dataclass(frozen=True)
class EnrollmentRevoked(Event, name="learning.enrollment.revoked"):
    """The learner lost access (a refund, a chargeback or an admin)."""

    enrollment_id: int


@dataclass(frozen=True)
class CourseCompleted(Event, name="learning.course.completed"):
    enrollment_id: int


# Engagement facts (issue 17: the analytics rollups count them; nothing else needs to).


@dataclass(frozen=True)
class LessonReached(Event, name="learning.lesson.reached"):
    """An enrolment touched a lesson for the first time (its lesson_progress row was made)."""

    enrollment_id: int
    lesson_id: int


@dataclass(frozen=True)
class LessonCompleted(Event, name="learning.lesson.completed"):
    """An enrolment marked a lesson done for the first time."""

    enrollment_id: int
    lesson_id: int


@dataclass(frozen=True)
class VideoWatched(Event, name="learning.video.watched"):
    """The furthest share of a video lesson an enrolment has watched moved (per mille of the
    lesson's duration, 0..1000); sent only when the share changes, not on every saved position."""

    enrollment_id: int
    lesson_id: int
    permille_before: int
    permille_after: int


@dataclass(frozen=True)
class QuizAttempted(Event, name="learning.quiz.attempted"):
    attempt_id: int


@dataclass(frozen=True)
class ReviewWritten(Event, name="learning.review.written"):
    """A learner reviewed a course (the payload says enough to count it even if the review is
    edited or removed before anyone reads the row)."""

    review_id: int
    course_id: int
    rating: int
    written_at: datetime


@dataclass(frozen=True)
class ReviewRerated(Event, name="learning.review.rerated"):
    """The author changed the stars of their review (written at `written_at`)."""

    review_id: int
    course_id: int
    old_rating: int
    new_rating: int
    written_at: datetime


@dataclass(frozen=True)
class ReviewDeleted(Event, name="learning.review.deleted"):
    """A review was taken back or removed; the row is gone, so the payload says what it was."""

    course_id: int
    rating: int
    written_at: datetime


@dataclass(frozen=True)
class QuestionAsked(Event, name="learning.question.asked"):
    thread_id: int


@dataclass(frozen=True)
class QuestionAnswered(Event, name="learning.question.answered"):
    """The first post in a thread by someone other than the asker."""

    thread_id: int
    post_id: int
