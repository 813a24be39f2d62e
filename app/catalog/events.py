"""The facts about courses that other domains react to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass

from app.events import Event


@dataclass(frozen=True)
class CourseSubmitted(Event, name="catalog.course.submitted"):
    """The creator sent a complete draft for review."""

    course_id: int


@dataclass(frozen=True)
class CoursePublished(Event, name="catalog.course.published"):
    course_id: int


@dataclass(frozen=True)
class CourseUnpublished(Event, name="catalog.course.unpublished"):
    course_id: int


@dataclass(frozen=True)
class LessonAdded(Event, name="catalog.course.lesson_added"):
    """A lesson was added to a published course (additions to a draft are not announced)."""

    course_id: int
    lesson_id: int


@dataclass(frozen=True)
class CourseReviewed(Event, name="catalog.course.reviewed"):
    """An admin approved or rejected a submitted course (a ReviewDecision row was written)."""

    decision_id: int
