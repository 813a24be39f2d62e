"""The learner's side: enroll, the player, quizzes, discussions, reviews, certificates."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.blueprints.htmx import page_arg, redirect_to, redirect_url, render_page, wants_fragment
from app.blueprints.learn import bp
from app.catalog.models import LESSON_KINDS
from app.catalog.queries import get_course
from app.dbtypes import utcnow, writes_on_get
from app.errors import Invalid, NotFound
from app.extensions import db
from app.learning import attempts, certificates, discussions, enrollment, progress, reviews
from app.learning.models import Post
from app.learning.permissions import can_rate_course
from app.learning.queries import active_enrollment, completed_lesson_ids
from app.learning.stats import stats_for
from app.moderation.reports import report_post, report_review

# --- enrolling -----------------------------------------------------------------------

@bp.post("/courses/<int:course_id>/enroll")
@login_required
def course_enroll(course_id: int):
    course = get_course(course_id)
    enrollment.enroll(current_user, course, source="free")
    db.session.commit()
    flash(f"You are enrolled in “{course.title}”. Enjoy!", "success")
    return redirect_to("learn.course_player", course_id=course.id)


# --- the player ------------------------------------------------------------------------

def player_context(access: progress.LessonAccess, **extra) -> dict:
    course, lesson, enrolled = access.course, access.lesson, access.enrollment
    done = completed_lesson_ids(enrolled) if enrolled else set()
    previous, following = progress.neighbours(lesson)
    ctx = {"course": course, "lesson": lesson, "enrollment": enrolled, "done": done,
           "lesson_kinds": LESSON_KINDS, "previous": previous, "following": following,
           "percent": progress.progress_percent(enrolled) if enrolled else 0,
           "position": progress.saved_position(enrolled, lesson), "grade": None, "answers": {},
           "best": attempts.best_score(enrolled, lesson.quiz) if lesson.quiz else None,
           "certificate": certificates.certificate_for(enrolled), "error": None}
    ctx.update(extra)
    return ctx


@bp.get("/<int:course_id>")
@login_required
def course_player(course_id: int):
    """Continue where the learner left off."""
    course = get_course(course_id)
    enrolled = progress.require_enrollment(current_user, course)
    lesson = progress.next_lesson(enrolled)
    if lesson is None:
        flash("This course has no lessons yet.", "info")
        return redirect(url_for("dashboard.home"))
    return redirect(url_for("learn.lesson_view", course_id=course.id, lesson_id=lesson.id))


@bp.get("/<int:course_id>/lessons/<int:lesson_id>")
@writes_on_get  # records the lesson as opened
def lesson_view(course_id: int, lesson_id: int):
    access = progress.access_lesson(current_user, course_id, lesson_id)
    if access.enrollment is not None:
        progress.open_lesson(current_user, access, now=utcnow())
        db.session.commit()
    return render_page("learn/player.html", "lesson_panel", **player_context(access))


@bp.post("/<int:course_id>/lessons/<int:lesson_id>/complete")
@login_required
def lesson_complete(course_id: int, lesson_id: int):
    access = progress.access_lesson(current_user, course_id, lesson_id)
    progress.complete_lesson(current_user, access.lesson)
    db.session.commit()
    if access.enrollment.completed_at is not None and not wants_fragment():
        flash("You completed the course. Congratulations!", "success")
    _, following = progress.neighbours(access.lesson)
    if wants_fragment():
        return render_page("learn/player.html", "lesson_panel", **player_context(access))
    target = following or access.lesson
    return redirect(url_for("learn.lesson_view", course_id=course_id, lesson_id=target.id))


@bp.post("/<int:course_id>/lessons/<int:lesson_id>/position")
@login_required
def lesson_position(course_id: int, lesson_id: int):
    """Called every few seconds while a video plays; answers 204."""
    access = progress.access_lesson(current_user, course_id, lesson_id)
    progress.save_position(current_user, access.lesson, request.form.get("position", "0"))
    db.session.commit()
    return "", 204


@bp.post("/<int:course_id>/lessons/<int:lesson_id>/quiz")
@login_required
def quiz_submit(course_id: int, lesson_id: int):
    access = progress.access_lesson(current_user, course_id, lesson_id)
    answers: dict[int, list[int]] = {}
    try:
        answers = attempts.parse_answers(request.form.to_dict(flat=False))
        _, grade = attempts.submit_quiz(current_user, access.lesson, answers)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return render_page("learn/player.html", "lesson_panel", status=422,
                           **player_context(access, error=exc.message, answers=answers))
    return render_page("learn/player.html", "lesson_panel",
                       **player_context(access, grade=grade, answers=answers))


# --- discussions ---------------------------------------------------------------------

def row_id(value: str) -> int:
    """A query-string id; anything a database id cannot be (ValueError) is ignored."""
    number = int(value)
    if not 0 < number < 2 ** 31:
        raise ValueError(value)
    return number


@bp.get("/<int:course_id>/discussions")
@login_required
def thread_list(course_id: int):
    course = get_course(course_id)
    page = discussions.list_threads(current_user, course, page=page_arg(),
                                    lesson_id=request.args.get("lesson", type=row_id))
    return render_page("learn/discussions.html", "threads", course=course, page=page,
                       errors={}, typed={})


@bp.post("/<int:course_id>/discussions")
@login_required
def thread_new(course_id: int):
    course = get_course(course_id)
    form = request.form
    try:
        thread = discussions.start_thread(current_user, course, title=form.get("title", ""),
                                          body=form.get("body", ""),
                                          lesson_id=form.get("lesson_id") or None)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        page = discussions.list_threads(current_user, course)
        return render_page("learn/discussions.html", "new_thread", status=422, course=course,
                           page=page, errors={exc.field or "form": exc.message}, typed=dict(form))
    return redirect(url_for("learn.thread_detail", course_id=course.id, thread_id=thread.id))


def thread_page(thread, status: int = 200, block: str = "thread", **extra):
    ctx = {"course": thread.course, "thread": thread, "voted": discussions.voted_post_ids(current_user, thread),
           "enrolled": active_enrollment(current_user, thread.course) is not None,
           "now": utcnow(), "errors": {}, "typed": {}, **extra}
    return render_page("learn/thread.html", block, status=status, **ctx)


@bp.get("/<int:course_id>/discussions/<int:thread_id>")
@login_required
def thread_detail(course_id: int, thread_id: int):
    thread = discussions.access_thread(current_user, thread_id)
    if thread.course_id != course_id:
        raise NotFound("No such question in this course.")
    return thread_page(thread)


@bp.post("/discussions/<int:thread_id>/replies")
@login_required
def thread_reply(thread_id: int):
    thread = discussions.access_thread(current_user, thread_id)
    body = request.form.get("body", "")
    try:
        discussions.reply(current_user, thread, body=body)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return thread_page(thread, 422, errors={"reply": exc.message}, typed={"reply": body})
    if wants_fragment():
        return thread_page(thread)
    return redirect(url_for("learn.thread_detail", course_id=thread.course_id, thread_id=thread.id)
                    + "#replies")


def _post_changed(post: Post):
    thread = post.thread
    if thread.deleted_at is not None:
        flash("The question was deleted.", "info")
        return redirect_url(url_for("learn.thread_list", course_id=thread.course_id))
    if wants_fragment():
        return thread_page(thread)
    return redirect(url_for("learn.thread_detail", course_id=thread.course_id, thread_id=thread.id)
                    + f"#post-{post.id}")


@bp.post("/posts/<int:post_id>/edit")
@login_required
def post_edit(post_id: int):
    post = discussions.access_post(current_user, post_id)
    body = request.form.get("body", "")
    try:
        discussions.edit_post(current_user, post, body=body)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return thread_page(post.thread, 422, errors={f"post-{post.id}": exc.message},
                           typed={f"post-{post.id}": body})
    return _post_changed(post)


@bp.post("/posts/<int:post_id>/delete")
@login_required
def post_delete(post_id: int):
    post = discussions.access_post(current_user, post_id)
    discussions.delete_post(current_user, post)
    db.session.commit()
    return _post_changed(post)


@bp.post("/posts/<int:post_id>/vote")
@login_required
def post_vote(post_id: int):
    post = discussions.access_post(current_user, post_id)
    discussions.toggle_vote(current_user, post)
    db.session.commit()
    return _post_changed(post)


@bp.post("/posts/<int:post_id>/answer")
@login_required
def post_answer(post_id: int):
    post = discussions.access_post(current_user, post_id)
    clear = request.form.get("clear") == "1"
    discussions.mark_answer(current_user, post.thread, None if clear else post)
    db.session.commit()
    return _post_changed(post)


@bp.post("/posts/<int:post_id>/report")
@login_required
def post_report(post_id: int):
    post = discussions.access_post(current_user, post_id)
    try:
        report_post(current_user, post, reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return thread_page(post.thread, 422, errors={f"report-{post.id}": exc.message})
    flash("Thanks: the moderators will look at it.", "success")
    return redirect(url_for("learn.thread_detail", course_id=post.thread.course_id,
                            thread_id=post.thread_id))


# --- reviews -------------------------------------------------------------------------

def reviews_page(course, status: int = 200, **extra):
    enrolled = active_enrollment(current_user, course)
    ctx = {"course": course, "stats": stats_for(course.id),
           "page": reviews.list_reviews(course, page=page_arg()),
           "mine": reviews.review_of(current_user, course),
           "may_review": can_rate_course(current_user, course, enrolled=enrolled is not None),
           "errors": {}, "typed": {}, **extra}
    return render_page("learn/reviews.html", "reviews", status=status, **ctx)


@bp.get("/<int:course_id>/reviews")
def course_reviews(course_id: int):
    return reviews_page(reviews.access_course_reviews(current_user, course_id))


@bp.post("/<int:course_id>/reviews")
@login_required
def review_write(course_id: int):
    course = get_course(course_id)
    form = request.form
    try:
        reviews.write_review(current_user, course, rating=form.get("rating"), body=form.get("body", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return reviews_page(course, 422, errors={exc.field or "review": exc.message}, typed=dict(form))
    flash("Thanks for your review!", "success")
    return redirect(url_for("learn.course_reviews", course_id=course.id))


@bp.post("/<int:course_id>/reviews/delete")
@login_required
def review_delete(course_id: int):
    reviews.delete_review(current_user, reviews.access_course_reviews(current_user, course_id))
    db.session.commit()
    flash("Your review was deleted.", "success")
    return redirect(url_for("learn.course_reviews", course_id=course_id))


@bp.post("/reviews/<int:review_id>/reply")
@login_required
def review_reply(review_id: int):
    review = reviews.access_review(review_id)
    text = request.form.get("reply", "")
    try:
        reviews.reply_to_review(current_user, review, text=text)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return reviews_page(review.course, 422, errors={f"reply-{review.id}": exc.message},
                            typed={f"reply-{review.id}": text})
    return redirect(url_for("learn.course_reviews", course_id=review.course_id) + f"#review-{review.id}")


@bp.post("/reviews/<int:review_id>/report")
@login_required
def review_report(review_id: int):
    review = reviews.access_review(review_id)
    try:
        report_review(current_user, review, reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return reviews_page(review.course, 422, errors={f"report-{review.id}": exc.message})
    flash("Thanks: the moderators will look at it.", "success")
    return redirect(url_for("learn.course_reviews", course_id=review.course_id))
