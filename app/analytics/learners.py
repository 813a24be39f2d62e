"""Enrolments, completions, lesson reach, quizzes, reviews and Q&A, rolled up per course.

(Issue 17, part 1: to be written — the learning helper owns this module.)
"""
from __future__ import annotations

from datetime import date


def rebuild(start: date, end: date) -> None:
    """Recompute the learner columns of CourseDay and DurationDay for start..end."""
