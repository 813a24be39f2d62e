"""The lesson editor page: a lesson's settings, its text (with a preview that works without
JavaScript) and its video or PDF upload. quiz_editor.py edits the quiz on the same page.
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from app.blueprints.htmx import redirect_url, render_page, wants_fragment
from app.blueprints.studio import bp
from app.catalog import editing, structure
from app.catalog.models import QUESTION_KINDS
from app.errors import DomainError, Invalid
from app.extensions import db
from app.rendering import render_markdown


def lesson_page(lesson, block: str = "lesson_editor", status: int = 200, **extra):
    ctx = {"lesson": lesson, "course": lesson.section.course, "errors": {}, "typed": {},
           "question_kinds": QUESTION_KINDS, "locked": editing.is_locked_for_editing(lesson.section.course),
           "body_preview": None, "saved": False, **extra}
    return render_page("studio/lesson_edit.html", block, status=status, **ctx)


def lesson_changed(lesson, block: str, anchor: str = ""):
    db.session.commit()
    if wants_fragment():
        return lesson_page(lesson, block, saved=True)
    return redirect_url(url_for("studio.lesson_edit", lesson_id=lesson.id) + (f"#{anchor}" if anchor else ""))


def lesson_error(lesson, exc: DomainError, block: str, key: str, typed: dict | None = None):
    db.session.rollback()
    if exc.status not in (413, 422):
        raise exc
    return lesson_page(lesson, block if wants_fragment() else "lesson_editor", exc.status,
                       errors={key: exc.message}, typed=typed or {})


@bp.get("/lessons/<int:lesson_id>")
def lesson_edit(lesson_id: int):
    return lesson_page(editing.access_lesson_for_edit(current_user, lesson_id))


@bp.post("/lessons/<int:lesson_id>/settings")
def lesson_settings(lesson_id: int):
    lesson = editing.access_lesson_for_edit(current_user, lesson_id)
    form = request.form
    try:
        structure.update_lesson(current_user, lesson, title=form.get("title", ""),
                                duration_minutes=form.get("duration_minutes", ""),
                                is_free_preview=form.get("is_free_preview") == "on")
    except DomainError as exc:
        return lesson_error(lesson, exc, "lesson_settings", "settings", dict(form))
    return lesson_changed(lesson, "lesson_settings", "settings")


@bp.post("/lessons/<int:lesson_id>/body")
def lesson_body(lesson_id: int):
    lesson = editing.access_lesson_for_edit(current_user, lesson_id)
    body = request.form.get("body", "")
    if request.form.get("action") == "preview":  # the no-JS preview button
        return lesson_page(lesson, typed={"body": body}, body_preview=render_markdown(body))
    try:
        structure.update_lesson(current_user, lesson, body=body)
    except DomainError as exc:
        return lesson_error(lesson, exc, "lesson_content", "body", {"body": body})
    return lesson_changed(lesson, "lesson_content", "content")


@bp.post("/lessons/<int:lesson_id>/media")
def lesson_media(lesson_id: int):
    lesson = editing.access_lesson_for_edit(current_user, lesson_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Choose a file to upload.", field="file")
        structure.set_lesson_media(current_user, lesson, upload.stream, upload.filename)
    except DomainError as exc:
        return lesson_error(lesson, exc, "lesson_content", "file")
    return lesson_changed(lesson, "lesson_content", "content")
