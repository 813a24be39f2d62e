"""The curriculum block of the course editor: add, rename, move and delete sections, add,
move and delete lessons. Each change answers with the new curriculum block (htmx) or the
editor again, at the changed row.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.blueprints.htmx import wants_fragment
from app.blueprints.studio import bp
from app.blueprints.studio.course_editor import back_to_editor, editor
from app.catalog import editing, structure
from app.errors import DomainError
from app.extensions import db


def curriculum_changed(course, anchor: str = "curriculum"):
    """After a curriculum change: the new curriculum block (htmx) or the editor again."""
    db.session.commit()
    if wants_fragment():
        return editor(course, "curriculum")
    return back_to_editor(course, anchor)


def curriculum_error(course, exc: DomainError, key: str, typed: dict):
    db.session.rollback()
    if exc.status != 422:
        raise exc
    block = "curriculum" if wants_fragment() else "editor"
    return editor(course, block, 422, errors={key: exc.message}, typed=typed)


@bp.post("/courses/<int:course_id>/sections")
def section_add(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    title = request.form.get("title", "")
    try:
        section = structure.add_section(current_user, course, title=title)
    except DomainError as exc:
        return curriculum_error(course, exc, "section_new", {"section_new": title})
    return curriculum_changed(course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/rename")
def section_rename(section_id: int):
    section = editing.access_section_for_edit(current_user, section_id)
    title = request.form.get("title", "")
    try:
        structure.rename_section(current_user, section, title=title)
    except DomainError as exc:
        return curriculum_error(section.course, exc, f"section-{section.id}",
                                {f"section-{section.id}": title})
    return curriculum_changed(section.course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/move")
def section_move(section_id: int):
    section = editing.access_section_for_edit(current_user, section_id)
    structure.move_section(current_user, section, request.form.get("direction", ""))
    return curriculum_changed(section.course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/delete")
def section_delete(section_id: int):
    section = editing.access_section_for_edit(current_user, section_id)
    course = section.course
    structure.delete_section(current_user, section)
    return curriculum_changed(course)


@bp.post("/sections/<int:section_id>/lessons")
def lesson_add(section_id: int):
    section = editing.access_section_for_edit(current_user, section_id)
    course = section.course  # the section may be gone by the time the lesson would be added
    title, kind = request.form.get("title", ""), request.form.get("kind", "")
    try:
        lesson = structure.add_lesson(current_user, section, title=title, kind=kind)
    except DomainError as exc:
        return curriculum_error(course, exc, f"lesson_new-{section_id}",
                                {f"lesson_new-{section_id}": title})
    return curriculum_changed(course, f"lesson-{lesson.id}")


@bp.post("/lessons/<int:lesson_id>/move")
def lesson_move(lesson_id: int):
    lesson = editing.access_lesson_for_edit(current_user, lesson_id)
    structure.move_lesson(current_user, lesson, request.form.get("direction", ""))
    return curriculum_changed(lesson.section.course, f"lesson-{lesson.id}")


@bp.post("/lessons/<int:lesson_id>/delete")
def lesson_delete(lesson_id: int):
    lesson = editing.access_lesson_for_edit(current_user, lesson_id)
    course = lesson.section.course
    structure.delete_lesson(current_user, lesson)
    return curriculum_changed(course)
