"""What runs before any studio view does its work: the sign-in requirement, the upload size
cap (set before anything reads the body), and the loaders that fetch a section, lesson, quiz,
question or option and check that the signed-in creator may edit its course.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from app.blueprints.studio import bp
from app.catalog.media import max_bytes
from app.catalog.models import Lesson, QuizQuestion
from app.catalog.permissions import can_edit_course
from app.catalog.queries import get_lesson, get_section
from app.errors import NotFound
from app.extensions import db
from app.policy import require

UPLOAD_FORM_SLACK = 64 * 1024  # multipart boundaries and the CSRF field around the file


@bp.url_value_preprocessor
def upload_limit(endpoint: str | None, values: dict | None) -> None:
    """Cap an upload's request size by the kind of file it carries, from its Content-Length.

    This must run before anything reads the body: the app's before-request hooks (the CSRF
    check, the NUL-character guard) parse the form, and a limit set later, in the view,
    would only apply after the whole upload had been received. URL value preprocessors run
    before every before-request hook, so an oversized upload gets its 413 unread."""
    limit = None
    if endpoint == "studio.cover_upload":
        limit = max_bytes("image")
    elif endpoint == "studio.lesson_media" and values:
        lesson = db.session.get(Lesson, values.get("lesson_id"))
        if lesson is not None and lesson.kind in ("video", "pdf"):
            limit = max_bytes(lesson.kind)
        elif lesson is not None:  # text and quiz lessons take no file (the view says so)
            limit = min(max_bytes("video"), max_bytes("pdf"))
    if limit is not None:
        request.max_content_length = limit + UPLOAD_FORM_SLACK


@bp.before_request
@login_required
def signed_in_only():
    """Every studio page needs an account (any account can teach)."""


def owned_section(section_id: int):
    section = get_section(section_id)
    require(can_edit_course(current_user, section.course), "edit this course")
    return section


def owned_lesson(lesson_id: int):
    lesson = get_lesson(lesson_id)
    require(can_edit_course(current_user, lesson.section.course), "edit this course")
    return lesson


def owned_quiz(lesson_id: int):
    """The quiz of a lesson the actor may edit; other kinds of lesson have none."""
    lesson = owned_lesson(lesson_id)
    if lesson.quiz is None:
        raise NotFound("This lesson is not a quiz.")
    return lesson.quiz


def owned(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound()
    quiz = obj.quiz if isinstance(obj, QuizQuestion) else obj.question.quiz
    require(can_edit_course(current_user, quiz.lesson.section.course), "edit this course")
    return obj
