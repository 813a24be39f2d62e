"""The facts about learners' enrolments that other domains react to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass

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
