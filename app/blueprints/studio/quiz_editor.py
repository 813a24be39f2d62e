"""Quiz authoring, on the lesson editor page of a quiz lesson: the pass mark, questions and
their options. Each change answers with the new quiz block (htmx) or the lesson editor again.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from app.blueprints.studio import bp
from app.blueprints.studio.lesson_editor import lesson_changed, lesson_error
from app.catalog import editing, quizzes
from app.errors import DomainError
from app.extensions import db


def quiz_changed(quiz):
    return lesson_changed(quiz.lesson, "quiz", "quiz")


def quiz_error(quiz, exc, key, typed=None):
    if exc.status not in (413, 422):  # e.g. 409: the quiz may be gone, so no quiz page
        db.session.rollback()
        raise exc
    return lesson_error(quiz.lesson, exc, "quiz", key, typed)


@bp.post("/lessons/<int:lesson_id>/quiz/pass-mark")
def quiz_pass_mark(lesson_id: int):
    quiz = editing.access_quiz_for_edit(current_user, lesson_id)
    value = request.form.get("pass_mark_percent", "")
    try:
        quizzes.set_pass_mark(current_user, quiz, value)
    except DomainError as exc:
        return quiz_error(quiz, exc, "pass_mark", {"pass_mark": value})
    return quiz_changed(quiz)


@bp.post("/lessons/<int:lesson_id>/quiz/questions")
def question_add(lesson_id: int):
    quiz = editing.access_quiz_for_edit(current_user, lesson_id)
    form = request.form
    try:
        quizzes.add_question(current_user, quiz, prompt=form.get("prompt", ""),
                             kind=form.get("kind", "single"), explanation=form.get("explanation", ""))
    except DomainError as exc:
        return quiz_error(quiz, exc, "question_new", dict(form))
    return quiz_changed(quiz)


@bp.post("/questions/<int:question_id>")
def question_update(question_id: int):
    question = editing.access_question_for_edit(current_user, question_id)
    form = request.form
    try:
        quizzes.update_question(current_user, question, prompt=form.get("prompt", ""),
                                explanation=form.get("explanation", ""))
    except DomainError as exc:
        return quiz_error(question.quiz, exc, f"question-{question.id}", dict(form))
    return quiz_changed(question.quiz)


@bp.post("/questions/<int:question_id>/delete")
def question_delete(question_id: int):
    question = editing.access_question_for_edit(current_user, question_id)
    quiz = question.quiz
    quizzes.delete_question(current_user, question)
    return quiz_changed(quiz)


@bp.post("/questions/<int:question_id>/options")
def option_add(question_id: int):
    question = editing.access_question_for_edit(current_user, question_id)
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
    option = editing.access_option_for_edit(current_user, option_id)
    quizzes.set_correct(current_user, option, request.form.get("correct") == "1")
    return quiz_changed(option.question.quiz)


@bp.post("/options/<int:option_id>/delete")
def option_delete(option_id: int):
    option = editing.access_option_for_edit(current_user, option_id)
    quiz = option.question.quiz
    try:
        quizzes.delete_option(current_user, option)
    except DomainError as exc:
        return quiz_error(quiz, exc, f"question-{option.question_id}")
    return quiz_changed(quiz)
