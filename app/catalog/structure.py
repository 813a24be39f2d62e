"""Sections and lessons: add, rename, edit, delete, reorder (the studio's curriculum).

Changes to a course's outline (adding, deleting, moving) take the course's row lock first and
then read the outline afresh, so two at once (two tabs, a double click) run one after the
other on what the first left, and positions stay 0, 1, 2, ... A section or lesson that the
other change deleted is a 409 with a reason, or nothing to do when it was being deleted too.
"""
from __future__ import annotations

from typing import BinaryIO

from app.accounts.models import User
from app.catalog.courses import lock_outline
from app.catalog.editing import ensure_editable
from app.catalog.errors import IllegalTransition
from app.catalog.events import LessonAdded
from app.catalog.media import store_asset
from app.catalog.models import LESSON_KINDS, Course, Lesson, Quiz, Section
from app.catalog.permissions import can_edit_course
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid
from app.events import emit
from app.extensions import db
from app.policy import require

LESSON_TITLE_MAX = 120
BODY_MAX = 100_000
MAX_DURATION_SECONDS = 24 * 3600


def _check(actor: User, course: Course) -> None:
    require(can_edit_course(actor, course), "edit this course")
    ensure_editable(course)
    course.updated_at = utcnow()


def _still_there(model, row_id: int, what: str):
    found = db.session.get(model, row_id)
    if found is None:
        raise Conflict(f"This {what} was deleted meanwhile (in another tab?). Reload the page.")
    return found


def _clean_title(title: str, what: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(f"Give the {what} a title.", field="title")
    if len(title) > LESSON_TITLE_MAX:
        raise Invalid(f"Keep the {what} title under {LESSON_TITLE_MAX} characters.", field="title")
    return title


def _renumber(items) -> None:
    for position, item in enumerate(items):
        item.position = position


def _swap(items: list, item, direction: str) -> None:
    if direction not in ("up", "down"):
        raise Invalid("Move up or down.")
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    _renumber(items)


# --- sections ------------------------------------------------------------------------

def add_section(actor: User, course: Course, *, title: str) -> Section:
    course = lock_outline(course.id)
    _check(actor, course)
    section = Section(title=_clean_title(title, "section"), position=len(course.sections))
    course.sections.append(section)
    db.session.flush()
    return section


def rename_section(actor: User, section: Section, *, title: str) -> Section:
    _check(actor, section.course)
    section.title = _clean_title(title, "section")
    return section


def delete_section(actor: User, section: Section) -> None:
    section_id = section.id
    course = lock_outline(section.course_id)
    _check(actor, course)
    section = db.session.get(Section, section_id)
    if section is None:
        return  # deleted meanwhile: what was asked is done
    if section.lessons and course.status == "published":
        raise IllegalTransition("Learners may be following these lessons: move or delete them "
                                "one by one before deleting the section.")
    course.sections.remove(section)
    _renumber(course.sections)
    db.session.flush()


def move_section(actor: User, section: Section, direction: str) -> None:
    section_id = section.id
    course = lock_outline(section.course_id)
    section = _still_there(Section, section_id, "section")
    _check(actor, course)
    sections = list(course.sections)
    _swap(sections, section, direction)
    course.sections.sort(key=lambda s: s.position)


# --- lessons -------------------------------------------------------------------------

def add_lesson(actor: User, section: Section, *, title: str, kind: str) -> Lesson:
    section_id = section.id
    course = lock_outline(section.course_id)
    section = _still_there(Section, section_id, "section")
    _check(actor, course)
    if kind not in LESSON_KINDS:
        raise Invalid("Choose a lesson type: video, PDF, text or quiz.", field="kind")
    lesson = Lesson(course_id=course.id, title=_clean_title(title, "lesson"), kind=kind,
                    position=len(section.lessons))
    if kind == "quiz":
        lesson.quiz = Quiz()
    section.lessons.append(lesson)
    db.session.flush()
    if course.status == "published":
        emit(LessonAdded(course_id=course.id, lesson_id=lesson.id))
    return lesson


def update_lesson(actor: User, lesson: Lesson, *, title: str | None = None,
                  duration_minutes: str | int | None = None, is_free_preview: bool | None = None,
                  body: str | None = None) -> Lesson:
    _check(actor, lesson.section.course)
    # Everything is checked before anything changes: a refused edit changes nothing.
    changes = {}
    if title is not None:
        changes["title"] = _clean_title(title, "lesson")
    if duration_minutes is not None and duration_minutes != "":
        try:
            minutes = int(duration_minutes)
        except (TypeError, ValueError):
            raise Invalid("Enter the duration in whole minutes.", field="duration_minutes") from None
        if not 0 <= minutes * 60 <= MAX_DURATION_SECONDS:
            raise Invalid("Enter a duration between 0 and 1,440 minutes.", field="duration_minutes")
        changes["duration_seconds"] = minutes * 60
    if is_free_preview is not None:
        changes["is_free_preview"] = bool(is_free_preview)
    if body is not None:
        if lesson.kind != "text":
            raise Invalid("Only text lessons have a written body.", field="body")
        if len(body) > BODY_MAX:
            raise Invalid(f"Keep the lesson under {BODY_MAX:,} characters.", field="body")
        changes["body"] = body.strip()
    for name, value in changes.items():
        setattr(lesson, name, value)
    return lesson


def set_lesson_media(actor: User, lesson: Lesson, stream: BinaryIO, filename: str = "") -> Lesson:
    _check(actor, lesson.section.course)
    if lesson.kind not in ("video", "pdf"):
        raise Invalid("Only video and PDF lessons take a file.", field="file")
    lesson.media = store_asset(actor, stream, kind=lesson.kind, filename=filename)
    return lesson


def delete_lesson(actor: User, lesson: Lesson) -> None:
    lesson_id = lesson.id
    _check(actor, lock_outline(lesson.course_id))
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        return  # deleted meanwhile: what was asked is done
    section = lesson.section
    section.lessons.remove(lesson)
    _renumber(section.lessons)
    db.session.flush()


def move_lesson(actor: User, lesson: Lesson, direction: str) -> None:
    """Up/down within its section; past the edge it moves into the neighbouring section."""
    lesson_id = lesson.id
    course = lock_outline(lesson.course_id)
    lesson = _still_there(Lesson, lesson_id, "lesson")
    section = lesson.section
    _check(actor, course)
    if direction not in ("up", "down"):
        raise Invalid("Move up or down.")
    lessons = list(section.lessons)
    index = lessons.index(lesson)
    at_edge = index == 0 if direction == "up" else index == len(lessons) - 1
    if not at_edge:
        _swap(lessons, lesson, direction)
        section.lessons.sort(key=lambda item: item.position)
        return
    sections = list(course.sections)
    neighbour_index = sections.index(section) + (-1 if direction == "up" else 1)
    if not 0 <= neighbour_index < len(sections):
        return  # already first or last in the course
    neighbour = sections[neighbour_index]
    # Between leaving its section and joining the next one the lesson is an orphan, which
    # `delete-orphan` deletes at the next flush: so no (auto)flush may happen in between,
    # such as the one lazy-loading the neighbour's lessons would trigger.
    with db.session.no_autoflush:
        section.lessons.remove(lesson)
        _renumber(section.lessons)
        if direction == "up":
            neighbour.lessons.append(lesson)
        else:
            neighbour.lessons.insert(0, lesson)
        _renumber(neighbour.lessons)
    db.session.flush()
