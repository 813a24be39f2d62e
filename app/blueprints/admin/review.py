"""The course review queue (permission `review_courses`) and the category list."""
from __future__ import annotations

from flask import flash, request
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.htmx import client_ip, redirect_to, render_page
from app.catalog import publishing
from app.catalog.models import LESSON_KINDS
from app.catalog.permissions import can_review_course
from app.catalog.queries import get_course, review_queue
from app.errors import Invalid
from app.extensions import db
from app.policy import require


def _require_reviewer() -> None:
    require(current_user.has_permission("review_courses"), "review courses")


@bp.get("/review")
def review_list():
    _require_reviewer()
    return render_page("admin/review_queue.html", "queue", courses=review_queue())


def _review_page(course, status: int = 200, **extra):
    ctx = {"course": course, "checklist": publishing.checklist(course), "reasons": publishing.REJECTION_REASONS,
           "lesson_kinds": LESSON_KINDS, "errors": {}, "typed": {}, **extra}
    return render_page("admin/review_course.html", "decision", status=status, **ctx)


@bp.get("/review/<int:course_id>")
def review_detail(course_id: int):
    _require_reviewer()
    return _review_page(get_course(course_id))


@bp.post("/review/<int:course_id>/approve")
def review_approve(course_id: int):
    course = get_course(course_id)
    require(can_review_course(current_user, course), "review this course")
    publishing.approve_course(current_user, course, ip=client_ip())
    db.session.commit()
    flash(f"“{course.title}” is published.", "success")
    return redirect_to("admin.review_list")


@bp.post("/review/<int:course_id>/reject")
def review_reject(course_id: int):
    course = get_course(course_id)
    require(can_review_course(current_user, course), "review this course")
    reasons, note = request.form.getlist("reasons"), request.form.get("note", "")
    try:
        publishing.reject_course(current_user, course, reasons=reasons, note=note, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return _review_page(course, 422, errors={"reject": exc.message},
                            typed={"reasons": reasons, "note": note})
    flash(f"“{course.title}” went back to its creator with your reasons.", "success")
    return redirect_to("admin.review_list")


@bp.post("/courses/<int:course_id>/unpublish")
def course_unpublish(course_id: int):
    course = get_course(course_id)
    reason = request.form.get("reason", "")
    try:
        publishing.unpublish_course(current_user, course, reason=reason, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return _review_page(course, 422, errors={"unpublish": exc.message}, typed={"reason": reason})
    flash(f"“{course.title}” is unpublished; its creator was told why.", "success")
    return redirect_to("admin.review_detail", course_id=course.id)
