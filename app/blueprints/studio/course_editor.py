"""The course editor page: each field edited in place, the price with the creator's share
shown live, the Markdown preview and the cover upload.

It also renders the editor for the other screens that change a course (courses.py's
workflow, curriculum.py): `editor` renders one block of it, `back_to_editor` returns to it.
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from app.blueprints.htmx import redirect_url, render_page, wants_fragment
from app.blueprints.studio import bp
from app.catalog import courses, editing, publishing
from app.catalog.models import LANGUAGES, LESSON_KINDS, LEVELS
from app.catalog.queries import categories
from app.commerce.commission import split_for_course
from app.errors import Invalid, NotFound
from app.extensions import db
from app.rendering import render_markdown

INLINE_FIELDS = ("title", "subtitle", "category_id", "level", "language", "description", "price")
FIELD_LABELS = {"title": "Title", "subtitle": "Subtitle", "category_id": "Category",
                "level": "Level", "language": "Language", "description": "Description",
                "price": "Price"}


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
            "checklist": publishing.checklist(course), "lesson_kinds": LESSON_KINDS,
            "reasons": publishing.REJECTION_REASONS, "editing": None, "errors": {}, "typed": {},
            "locked": editing.is_locked_for_editing(course), **extra}


def editor(course, block: str = "editor", status: int = 200, **extra):
    return render_page("studio/course_edit.html", block, status=status,
                       **editor_context(course, **extra))


def back_to_editor(course, anchor: str = ""):
    """The editor again: a redirect, or `HX-Redirect` for htmx (a 302 would be followed
    inside the XHR and the whole page swapped into the fragment's target)."""
    return redirect_url(url_for("studio.course_edit", course_id=course.id) + (f"#{anchor}" if anchor else ""))


@bp.get("/courses/<int:course_id>")
def course_edit(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    field = request.args.get("edit")
    return editor(course, editing=field if field in INLINE_FIELDS else None)


@bp.get("/courses/<int:course_id>/fields/<field>")
def field_show(course_id: int, field: str):
    course = editing.access_course_for_edit(current_user, course_id)
    if field not in INLINE_FIELDS:
        raise NotFound("No such field.")
    if not wants_fragment():
        return back_to_editor(course, f"field-{field}")
    return render_page("studio/_field.html", "field", **editor_context(course, field=field))


@bp.get("/courses/<int:course_id>/fields/<field>/edit")
def field_edit(course_id: int, field: str):
    course = editing.access_course_for_edit(current_user, course_id)
    if field not in INLINE_FIELDS:
        raise NotFound("No such field.")
    editing.ensure_editable(course)
    if not wants_fragment():
        return redirect_url(url_for("studio.course_edit", course_id=course.id, edit=field) + f"#field-{field}")
    return render_page("studio/_field.html", "field",
                       **editor_context(course, field=field, editing=field))


@bp.post("/courses/<int:course_id>/fields/<field>")
def field_update(course_id: int, field: str):
    course = editing.access_course_for_edit(current_user, course_id)
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
    course = editing.access_course_for_edit(current_user, course_id)
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
    course = editing.access_course_for_edit(current_user, course_id)
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
