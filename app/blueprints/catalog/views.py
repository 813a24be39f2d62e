"""Public course pages (the discovery issue adds the catalog itself), previews and media."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.blueprints.catalog import bp
from app.blueprints.media import send_stored
from app.catalog import media
from app.catalog.models import LESSON_KINDS, MediaAsset
from app.catalog.permissions import can_preview_course, can_view_lesson
from app.catalog.queries import get_course, get_lesson
from app.extensions import db
from app.policy import require

import sqlalchemy as sa


@bp.get("/<int:course_id>/preview")
def course_preview(course_id: int):
    """The course as a learner sees it, every lesson playable: for its creator and reviewers."""
    course = get_course(course_id)
    require(can_preview_course(current_user, course), "preview this course")
    return render_template("catalog/course_preview.html", course=course, lesson=None,
                           lesson_kinds=LESSON_KINDS)


@bp.get("/<int:course_id>/preview/lessons/<int:lesson_id>")
def lesson_preview(course_id: int, lesson_id: int):
    lesson = get_lesson(lesson_id)
    if lesson.course_id != course_id:
        abort(404)
    require(can_view_lesson(current_user, lesson), "view this lesson")
    return render_template("catalog/course_preview.html", course=lesson.section.course,
                           lesson=lesson, lesson_kinds=LESSON_KINDS)


@bp.get("/lessons/<int:lesson_id>/media")
def lesson_media(lesson_id: int):
    """A lesson's video or PDF, only for those `can_view_lesson` allows (Range-served)."""
    lesson, asset = media.access_lesson_media(current_user, lesson_id)
    public = lesson.is_free_preview and lesson.course.status == "published"
    return send_stored(asset.storage_key, asset.content_type, filename=asset.original_name,
                       cache="public, max-age=3600" if public else "private, max-age=3600")


@bp.get("/covers/<key>")
def cover(key: str):
    """Cover images: public, under unguessable names."""
    asset = db.session.scalar(sa.select(MediaAsset).where(MediaAsset.storage_key == key,
                                                          MediaAsset.kind == "image"))
    if asset is None:
        abort(404)
    return send_stored(asset.storage_key, asset.content_type, filename=asset.original_name,
                       cache="public, max-age=86400, immutable")


@bp.get("/<slug>")
def course_detail(slug: str):
    """The public course page (the discovery issue adds reviews, recommendations, JSON-LD)."""
    from app.catalog.models import LEVELS, Course
    from app.learning.queries import active_enrollment
    from app.learning.stats import stats_for

    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None or (course.status != "published" and not can_preview_course(current_user, course)
                          and active_enrollment(current_user, course) is None):
        abort(404)
    return render_template("catalog/course_detail.html", course=course, stats=stats_for(course.id),
                           enrollment=active_enrollment(current_user, course),
                           lesson_kinds=LESSON_KINDS, levels=LEVELS)
