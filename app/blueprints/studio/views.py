"""The creator studio: course list, new course, and the inline editor.

Every change is a small POST. With htmx it answers with the changed block of the same
template (a field, the curriculum, the checklist); without JavaScript it redirects back to
the editor (or re-renders it with the error and what was typed), so the studio works
either way.
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user, login_required

from app.blueprints.forms import attach_error
from app.blueprints.htmx import redirect_url, render_page, wants_fragment
from app.blueprints.studio import bp
from app.blueprints.studio.forms import NewCourseForm
from app.catalog import courses, quizzes, review, structure
from app.catalog.media import max_bytes
from app.catalog.models import (
    LANGUAGES,
    LESSON_KINDS,
    LEVELS,
    QUESTION_KINDS,
    Lesson,
    QuizOption,
    QuizQuestion,
)
from app.catalog.permissions import can_edit_course
from app.catalog.queries import categories, courses_by_creator, get_lesson, get_section
from app.commerce.commission import split_for_course
from app.errors import DomainError, Invalid, NotFound
from app.extensions import db
from app.learning.queries import learner_counts
from app.policy import require
from app.rendering import render_markdown

UPLOAD_FORM_SLACK = 64 * 1024  # multipart boundaries and the CSRF field around the file
INLINE_FIELDS = ("title", "subtitle", "category_id", "level", "language", "description", "price")
FIELD_LABELS = {"title": "Title", "subtitle": "Subtitle", "category_id": "Category",
                "level": "Level", "language": "Language", "description": "Description",
                "price": "Price"}


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


# --- helpers -------------------------------------------------------------------------

def field_options(field: str) -> list[tuple[str, str]]:
    if field == "category_id":
        return [(str(c.id), c.name) for c in categories()]
    if field == "level":
        return list(LEVELS.items())
    if field == "language":
        return list(LANGUAGES.items())
    return []


def field_value(course, field: str) -> str:
    if field == "price":
        whole, cents = divmod(course.price_minor, 100)
        return f"{whole}.{cents:02d}"
    value = getattr(course, field)
    return "" if value is None else str(value)


def field_display(course, field: str) -> str:
    if field == "category_id":
        return course.category.name if course.category else ""
    if field == "level":
        return LEVELS.get(course.level, course.level)
    if field == "language":
        return LANGUAGES.get(course.language, course.language)
    return field_value(course, field)


def editor_context(course, **extra) -> dict:
    return {"course": course, "fields": INLINE_FIELDS, "labels": FIELD_LABELS,
            "field_options": field_options, "field_value": field_value,
            "field_display": field_display, "split": split_for_course(course),
            "checklist": review.checklist(course), "lesson_kinds": LESSON_KINDS,
            "reasons": review.REJECTION_REASONS, "editing": None, "errors": {}, "typed": {},
            "locked": course.status == "under_review", **extra}


def editor(course, block: str = "editor", status: int = 200, **extra):
    return render_page("studio/course_edit.html", block, status=status,
                       **editor_context(course, **extra))


def back_to_editor(course, anchor: str = ""):
    """The editor again: a redirect, or `HX-Redirect` for htmx (a 302 would be followed
    inside the XHR and the whole page swapped into the fragment's target)."""
    return redirect_url(url_for("studio.course_edit", course_id=course.id) + (f"#{anchor}" if anchor else ""))


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


# --- course list and creation ----------------------------------------------------------

@bp.get("/")
def course_list():
    mine = courses_by_creator(current_user.id)
    return render_page("studio/course_list.html", "courses", courses=mine,
                       learner_counts=learner_counts([course.id for course in mine]))


@bp.route("/courses/new", methods=["GET", "POST"])
def course_new():
    form = NewCourseForm()
    form.category_id.choices = [("", "Choose a category")] + [(str(c.id), c.name) for c in categories()]
    if form.validate_on_submit():
        try:
            course = courses.create_course(current_user, title=form.title.data,
                                           category_id=form.category_id.data,
                                           accept_terms=form.accept_terms.data)
            db.session.commit()
            return redirect_url(url_for("studio.course_edit", course_id=course.id))
        except Invalid as exc:
            db.session.rollback()
            attach_error(form, exc)
    return render_page("studio/course_new.html", "course_form", form=form,
                       status=422 if form.errors or form.form_errors else 200)


# --- the editor ------------------------------------------------------------------------

@bp.get("/courses/<int:course_id>")
def course_edit(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    editing = request.args.get("edit")
    return editor(course, editing=editing if editing in INLINE_FIELDS else None)


@bp.get("/courses/<int:course_id>/fields/<field>")
def field_show(course_id: int, field: str):
    course = courses.access_course_for_edit(current_user, course_id)
    if field not in INLINE_FIELDS:
        raise NotFound("No such field.")
    if not wants_fragment():
        return back_to_editor(course, f"field-{field}")
    return render_page("studio/_field.html", "field", **editor_context(course, field=field))


@bp.get("/courses/<int:course_id>/fields/<field>/edit")
def field_edit(course_id: int, field: str):
    course = courses.access_course_for_edit(current_user, course_id)
    if field not in INLINE_FIELDS:
        raise NotFound("No such field.")
    courses.ensure_editable(course)
    if not wants_fragment():
        return redirect_url(url_for("studio.course_edit", course_id=course.id, edit=field) + f"#field-{field}")
    return render_page("studio/_field.html", "field",
                       **editor_context(course, field=field, editing=field))


@bp.post("/courses/<int:course_id>/fields/<field>")
def field_update(course_id: int, field: str):
    course = courses.access_course_for_edit(current_user, course_id)
    if field not in INLINE_FIELDS:
        raise NotFound("No such field.")
    value = request.form.get("value", "")
    try:
        if field == "price":
            courses.set_price(current_user, course, value)
        else:
            courses.update_course_field(current_user, course, field, value)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        ctx = editor_context(course, field=field, editing=field, errors={field: exc.message},
                             typed={field: value})
        if wants_fragment():
            return render_page("studio/_field.html", "field", status=422, **ctx)
        return render_page("studio/course_edit.html", "editor", status=422, **ctx)
    if wants_fragment():
        # The field, plus the checklist out-of-band (it may have changed).
        return render_page("studio/_field.html", "field", **editor_context(course, field=field, oob_checklist=True))
    return back_to_editor(course, f"field-{field}")


@bp.get("/courses/<int:course_id>/price/split")
def price_split(course_id: int):
    """Live 'you receive X' while the creator types a price (a small page without htmx)."""
    course = courses.access_course_for_edit(current_user, course_id)
    split, error = None, None
    try:
        split = split_for_course(course, courses.clean_price(request.args.get("value", "")))
    except Invalid as exc:
        error = exc.message
    return render_page("studio/price_split.html", "split", course=course, split=split, error=error)


@bp.post("/markdown/preview")
def markdown_preview():
    """Rendered Markdown of what is being typed (sanitised like the real thing)."""
    text = request.form.get("value", request.form.get("body", ""))[:100_000]
    return render_page("studio/markdown_preview.html", "preview", html=render_markdown(text))


@bp.post("/courses/<int:course_id>/cover")
def cover_upload(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    upload = request.files.get("cover")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Choose an image file.", field="cover")
        courses.set_cover(current_user, course, upload.stream, upload.filename)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return editor(course, "cover" if wants_fragment() else "editor", 422,
                      errors={"cover": exc.message})
    if wants_fragment():
        return editor(course, "cover", oob_checklist=True)
    return back_to_editor(course, "cover")


# --- workflow --------------------------------------------------------------------------

@bp.post("/courses/<int:course_id>/submit")
def course_submit(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    try:
        review.submit_for_review(current_user, course)
        db.session.commit()
    except review.ChecklistFailed:
        db.session.rollback()
        return editor(course, "editor", 422, submit_failed=True)
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/withdraw")
def course_withdraw(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    review.withdraw_submission(current_user, course)
    db.session.commit()
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/unpublish")
def course_unpublish(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    review.unpublish_course(current_user, course)
    db.session.commit()
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/delete")
def course_delete(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    courses.delete_course(current_user, course)
    db.session.commit()
    return redirect_url(url_for("studio.course_list"))


# --- curriculum: sections and lessons ---------------------------------------------------

@bp.post("/courses/<int:course_id>/sections")
def section_add(course_id: int):
    course = courses.access_course_for_edit(current_user, course_id)
    title = request.form.get("title", "")
    try:
        section = structure.add_section(current_user, course, title=title)
    except DomainError as exc:
        return curriculum_error(course, exc, "section_new", {"section_new": title})
    return curriculum_changed(course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/rename")
def section_rename(section_id: int):
    section = owned_section(section_id)
    title = request.form.get("title", "")
    try:
        structure.rename_section(current_user, section, title=title)
    except DomainError as exc:
        return curriculum_error(section.course, exc, f"section-{section.id}",
                                {f"section-{section.id}": title})
    return curriculum_changed(section.course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/move")
def section_move(section_id: int):
    section = owned_section(section_id)
    structure.move_section(current_user, section, request.form.get("direction", ""))
    return curriculum_changed(section.course, f"section-{section.id}")


@bp.post("/sections/<int:section_id>/delete")
def section_delete(section_id: int):
    section = owned_section(section_id)
    course = section.course
    structure.delete_section(current_user, section)
    return curriculum_changed(course)


@bp.post("/sections/<int:section_id>/lessons")
def lesson_add(section_id: int):
    section = owned_section(section_id)
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
    lesson = owned_lesson(lesson_id)
    structure.move_lesson(current_user, lesson, request.form.get("direction", ""))
    return curriculum_changed(lesson.section.course, f"lesson-{lesson.id}")


@bp.post("/lessons/<int:lesson_id>/delete")
def lesson_delete(lesson_id: int):
    lesson = owned_lesson(lesson_id)
    course = lesson.section.course
    structure.delete_lesson(current_user, lesson)
    return curriculum_changed(course)


# --- the lesson editor -------------------------------------------------------------------

def lesson_page(lesson, block: str = "lesson_editor", status: int = 200, **extra):
    ctx = {"lesson": lesson, "course": lesson.section.course, "errors": {}, "typed": {},
           "question_kinds": QUESTION_KINDS, "locked": lesson.section.course.status == "under_review",
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
    return lesson_page(owned_lesson(lesson_id))


@bp.post("/lessons/<int:lesson_id>/settings")
def lesson_settings(lesson_id: int):
    lesson = owned_lesson(lesson_id)
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
    lesson = owned_lesson(lesson_id)
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
    lesson = owned_lesson(lesson_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Choose a file to upload.", field="file")
        structure.set_lesson_media(current_user, lesson, upload.stream, upload.filename)
    except DomainError as exc:
        return lesson_error(lesson, exc, "lesson_content", "file")
    return lesson_changed(lesson, "lesson_content", "content")


# --- quiz authoring --------------------------------------------------------------------------

def quiz_changed(quiz):
    return lesson_changed(quiz.lesson, "quiz", "quiz")


def quiz_error(quiz, exc, key, typed=None):
    if exc.status not in (413, 422):  # e.g. 409: the quiz may be gone, so no quiz page
        db.session.rollback()
        raise exc
    return lesson_error(quiz.lesson, exc, "quiz", key, typed)


@bp.post("/lessons/<int:lesson_id>/quiz/pass-mark")
def quiz_pass_mark(lesson_id: int):
    quiz = owned_quiz(lesson_id)
    value = request.form.get("pass_mark_percent", "")
    try:
        quizzes.set_pass_mark(current_user, quiz, value)
    except DomainError as exc:
        return quiz_error(quiz, exc, "pass_mark", {"pass_mark": value})
    return quiz_changed(quiz)


@bp.post("/lessons/<int:lesson_id>/quiz/questions")
def question_add(lesson_id: int):
    quiz = owned_quiz(lesson_id)
    form = request.form
    try:
        quizzes.add_question(current_user, quiz, prompt=form.get("prompt", ""),
                             kind=form.get("kind", "single"), explanation=form.get("explanation", ""))
    except DomainError as exc:
        return quiz_error(quiz, exc, "question_new", dict(form))
    return quiz_changed(quiz)


@bp.post("/questions/<int:question_id>")
def question_update(question_id: int):
    question = owned(QuizQuestion, question_id)
    form = request.form
    try:
        quizzes.update_question(current_user, question, prompt=form.get("prompt", ""),
                                explanation=form.get("explanation", ""))
    except DomainError as exc:
        return quiz_error(question.quiz, exc, f"question-{question.id}", dict(form))
    return quiz_changed(question.quiz)


@bp.post("/questions/<int:question_id>/delete")
def question_delete(question_id: int):
    question = owned(QuizQuestion, question_id)
    quiz = question.quiz
    quizzes.delete_question(current_user, question)
    return quiz_changed(quiz)


@bp.post("/questions/<int:question_id>/options")
def option_add(question_id: int):
    question = owned(QuizQuestion, question_id)
    quiz = question.quiz  # the question may be gone by the time the option would be added
    form = request.form
    try:
        quizzes.add_option(current_user, question, text=form.get("text", ""),
                           is_correct=form.get("is_correct") == "on")
    except DomainError as exc:
        return quiz_error(quiz, exc, f"option_new-{question_id}",
                          {f"option_new-{question_id}": form.get("text", "")})
    return quiz_changed(quiz)


@bp.post("/options/<int:option_id>/correct")
def option_correct(option_id: int):
    option = owned(QuizOption, option_id)
    quizzes.set_correct(current_user, option, request.form.get("correct") == "1")
    return quiz_changed(option.question.quiz)


@bp.post("/options/<int:option_id>/delete")
def option_delete(option_id: int):
    option = owned(QuizOption, option_id)
    quiz = option.question.quiz
    try:
        quizzes.delete_option(current_user, option)
    except DomainError as exc:
        return quiz_error(quiz, exc, f"question-{option.question_id}")
    return quiz_changed(quiz)
