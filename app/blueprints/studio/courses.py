"""A creator's courses: the list, a new course, and a course's way through review (submit,
withdraw, unpublish) or out of the studio (delete).
"""
from __future__ import annotations

from flask import url_for
from flask_login import current_user

from app.blueprints.forms import attach_error
from app.blueprints.htmx import redirect_url, render_page
from app.blueprints.studio import bp
from app.blueprints.studio.course_editor import back_to_editor, editor
from app.blueprints.studio.forms import NewCourseForm
from app.catalog import courses, editing, publishing
from app.catalog.queries import categories, courses_by_creator
from app.errors import Invalid
from app.extensions import db
from app.learning.queries import learner_counts


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


# --- workflow --------------------------------------------------------------------------

@bp.post("/courses/<int:course_id>/submit")
def course_submit(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    try:
        publishing.submit_for_review(current_user, course)
        db.session.commit()
    except publishing.ChecklistFailed:
        db.session.rollback()
        return editor(course, "editor", 422, submit_failed=True)
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/withdraw")
def course_withdraw(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    publishing.withdraw_submission(current_user, course)
    db.session.commit()
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/unpublish")
def course_unpublish(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    publishing.unpublish_course(current_user, course)
    db.session.commit()
    return back_to_editor(course)


@bp.post("/courses/<int:course_id>/delete")
def course_delete(course_id: int):
    course = editing.access_course_for_edit(current_user, course_id)
    courses.delete_course(current_user, course)
    db.session.commit()
    return redirect_url(url_for("studio.course_list"))
