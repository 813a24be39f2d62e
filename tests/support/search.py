"""Published courses for the discovery tests, built through the catalog services (the review
checklist has to pass: description, cover, category, three lessons with content)."""
from __future__ import annotations

import io
from datetime import datetime

from app.catalog import courses, publishing, structure
from app.catalog.models import Course
from app.catalog.samples import png
from app.extensions import db
from app.learning.enrollment import enroll
from app.learning.reviews import write_review
from tests.support.catalog import category

# Neutral filler: no test searches for any of these words.
FILLER = ("A friendly series of short practical lessons with exercises, worked examples and "
          "notes to keep. ") * 3


def draft_course(creator, *, title: str, subtitle: str = "", description: str = "",
                 category_slug: str = "development", level: str = "all", language: str = "en",
                 price: str = "0", lessons: tuple[str, ...] = ("Getting started", "Going further",
                                                               "Wrapping up"),
                 duration_minutes: int = 0) -> Course:
    """A complete draft that passes the review checklist."""
    course = courses.create_course(creator, title=title, category_id=category(category_slug).id,
                                   accept_terms=True)
    courses.update_course_field(creator, course, "description", (description + " " + FILLER).strip())
    if subtitle:
        courses.update_course_field(creator, course, "subtitle", subtitle)
    courses.update_course_field(creator, course, "level", level)
    courses.update_course_field(creator, course, "language", language)
    courses.set_price(creator, course, price)
    courses.set_cover(creator, course, io.BytesIO(png(4, 4)), "cover.png")
    section = structure.add_section(creator, course, title="Part one")
    for title_ in lessons:
        lesson = structure.add_lesson(creator, section, title=title_, kind="text")
        structure.update_lesson(creator, lesson, body="Read this, then try it yourself.",
                                duration_minutes=duration_minutes or None)
    return course


def publish(creator, reviewer, *, now: datetime | None = None, **fields) -> Course:
    """A course submitted by `creator` and approved by `reviewer` (committed)."""
    course = draft_course(creator, **fields)
    publishing.submit_for_review(creator, course, now=now)
    publishing.approve_course(reviewer, course, now=now)
    db.session.commit()
    return course


def enroll_many(course: Course, learners, *, granter=None, now: datetime | None = None) -> list:
    """Enroll each learner (free courses by themselves, paid ones granted by `granter`)."""
    enrollments = []
    for learner in learners:
        if course.is_free:
            enrollments.append(enroll(learner, course, now=now))
        else:
            enrollments.append(enroll(learner, course, source="admin", granted_by=granter, now=now))
    db.session.commit()
    return enrollments


def rate(course: Course, learners, ratings, *, granter=None, now: datetime | None = None) -> None:
    """Each learner enrolls and leaves one rating."""
    enroll_many(course, learners, granter=granter, now=now)
    for learner, stars in zip(learners, ratings, strict=True):
        write_review(learner, course, rating=stars, now=now)
    db.session.commit()


def ids(results) -> list[int]:
    return [card.id for card in results.cards]
