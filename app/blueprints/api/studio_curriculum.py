"""The studio's curriculum: sections, lessons of the four kinds (uploads with the same
limits and type checks as the editor), and quizzes. Every change answers with the changed
thing; the same services as the studio pages (app/catalog/structure.py, quizzes.py)."""
from __future__ import annotations

from typing import Literal

from flask import g, request
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.catalog import LessonKind
from app.blueprints.api.openapi import ApiModel, operation
from app.blueprints.api.problems import mine_or_404, problem
from app.blueprints.api.studio import (
    TAG,
    StudioLesson,
    StudioSection,
    UploadFile,
    _my_course,
    studio_lesson,
)
from app.catalog import quizzes, structure
from app.catalog.editing import (
    access_lesson_for_edit,
    access_option_for_edit,
    access_question_for_edit,
    access_quiz_for_edit,
    access_section_for_edit,
)
from app.catalog.models import QUESTION_KINDS
from app.extensions import db

QuestionKind = Literal[tuple(QUESTION_KINDS)]


class NewSection(ApiModel):
    title: str = Field(min_length=1, max_length=500)


class Move(ApiModel):
    direction: Literal["up", "down"]


class NewLesson(ApiModel):
    title: str = Field(min_length=1, max_length=500)
    kind: LessonKind


class LessonChanges(ApiModel):
    """Only the fields sent change; `body` only for text lessons."""

    title: str | None = Field(None, max_length=500)
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    is_free_preview: bool | None = None
    body: str | None = Field(None, max_length=200_000, description="Markdown")


class MediaUpload(ApiModel):
    file: UploadFile = Field(description="A video (MP4, WebM) or a PDF, as the lesson's kind says")


class StudioOption(ApiModel):
    id: int
    text: str
    is_correct: bool


class StudioQuestion(ApiModel):
    id: int
    kind: QuestionKind
    prompt: str
    explanation: str
    options: list[StudioOption]


class StudioQuiz(ApiModel):
    lesson_id: int
    pass_mark_percent: int
    questions: list[StudioQuestion]


class QuizChanges(ApiModel):
    pass_mark_percent: int = Field(ge=0, le=100)


class NewQuestion(ApiModel):
    prompt: str = Field(min_length=1, max_length=5000)
    kind: QuestionKind = "single"
    explanation: str = Field("", max_length=5000)


class QuestionChanges(ApiModel):
    prompt: str = Field(min_length=1, max_length=5000)
    explanation: str = Field("", max_length=5000)


class NewOption(ApiModel):
    text: str = Field(min_length=1, max_length=500)
    is_correct: bool = False


class OptionChanges(ApiModel):
    is_correct: bool


def _mine(loader, object_id: int):
    """An object of one of the token user's courses; anyone else's is a 404."""
    return mine_or_404(loader, g.api_grant.user, object_id, what="course item")


def _section(section) -> StudioSection:
    return StudioSection(id=section.id, title=section.title, position=section.position,
                         lessons=[studio_lesson(lesson) for lesson in section.lessons])


# --- sections ---------------------------------------------------------------------------

@bp.post("/studio/courses/<int:course_id>/sections")
@operation(tags=[TAG], scope="teach", json=NewSection, model=StudioSection, ok=201, not_found=True, conflict=True)
def section_create(course_id: int, json: NewSection):
    """Add a section

    At the end of the course's curriculum."""
    section = structure.add_section(g.api_grant.user, _my_course(course_id), title=json.title)
    db.session.commit()
    return _section(section), 201


@bp.patch("/studio/sections/<int:section_id>")
@operation(tags=[TAG], scope="teach", json=NewSection, model=StudioSection, not_found=True, conflict=True)
def section_rename(section_id: int, json: NewSection):
    """Rename a section"""
    section = structure.rename_section(g.api_grant.user, _mine(access_section_for_edit, section_id),
                                       title=json.title)
    db.session.commit()
    return _section(section)


@bp.post("/studio/sections/<int:section_id>/move")
@operation(tags=[TAG], scope="teach", json=Move, model=StudioSection, not_found=True, conflict=True)
def section_move(section_id: int, json: Move):
    """Move a section up or down"""
    section = _mine(access_section_for_edit, section_id)
    structure.move_section(g.api_grant.user, section, json.direction)
    db.session.commit()
    return _section(section)


@bp.delete("/studio/sections/<int:section_id>")
@operation(tags=[TAG], scope="teach", ok=204, not_found=True, conflict=True)
def section_delete(section_id: int):
    """Delete a section and its lessons"""
    structure.delete_section(g.api_grant.user, _mine(access_section_for_edit, section_id))
    db.session.commit()
    return "", 204


# --- lessons ----------------------------------------------------------------------------

@bp.post("/studio/sections/<int:section_id>/lessons")
@operation(tags=[TAG], scope="teach", json=NewLesson, model=StudioLesson, ok=201, not_found=True, conflict=True)
def lesson_create(section_id: int, json: NewLesson):
    """Add a lesson

    Of one of the four kinds: video, PDF, text or quiz (a quiz lesson starts with an empty quiz)."""
    lesson = structure.add_lesson(g.api_grant.user, _mine(access_section_for_edit, section_id),
                                  title=json.title, kind=json.kind.value)
    db.session.commit()
    return studio_lesson(lesson), 201


@bp.patch("/studio/lessons/<int:lesson_id>")
@operation(tags=[TAG], scope="teach", json=LessonChanges, model=StudioLesson, not_found=True, conflict=True)
def lesson_update(lesson_id: int, json: LessonChanges):
    """Change a lesson

    Its title, duration, free preview, and for a text lesson its body."""
    lesson = _mine(access_lesson_for_edit, lesson_id)
    structure.update_lesson(g.api_grant.user, lesson, **json.model_dump(exclude_unset=True))
    db.session.commit()
    return studio_lesson(lesson)


@bp.post("/studio/lessons/<int:lesson_id>/move")
@operation(tags=[TAG], scope="teach", json=Move, model=StudioLesson, not_found=True, conflict=True)
def lesson_move(lesson_id: int, json: Move):
    """Move a lesson up or down

    Within its section, or across into the next or previous one at its edge."""
    lesson = _mine(access_lesson_for_edit, lesson_id)
    structure.move_lesson(g.api_grant.user, lesson, json.direction)
    db.session.commit()
    return studio_lesson(lesson)


@bp.put("/studio/lessons/<int:lesson_id>/media")
@operation(tags=[TAG], scope="teach", form=MediaUpload, model=StudioLesson, not_found=True, conflict=True)
def lesson_media(lesson_id: int):
    """Upload a lesson's video or PDF

    `multipart/form-data` with a `file`, checked by its content, within the size limit of its kind."""
    lesson = _mine(access_lesson_for_edit, lesson_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise problem(422, "file: choose a file to upload.")
    structure.set_lesson_media(g.api_grant.user, lesson, upload.stream, upload.filename)
    db.session.commit()
    return studio_lesson(lesson)


@bp.delete("/studio/lessons/<int:lesson_id>")
@operation(tags=[TAG], scope="teach", ok=204, not_found=True, conflict=True)
def lesson_delete(lesson_id: int):
    """Delete a lesson"""
    structure.delete_lesson(g.api_grant.user, _mine(access_lesson_for_edit, lesson_id))
    db.session.commit()
    return "", 204


# --- quizzes ----------------------------------------------------------------------------

def _quiz(quiz) -> StudioQuiz:
    return StudioQuiz(lesson_id=quiz.lesson_id, pass_mark_percent=quiz.pass_mark_percent, questions=[
        _question(question) for question in quiz.questions])


def _question(question) -> StudioQuestion:
    return StudioQuestion(id=question.id, kind=question.kind, prompt=question.prompt,
                          explanation=question.explanation,
                          options=[StudioOption(id=o.id, text=o.text, is_correct=o.is_correct)
                                   for o in question.options])


@bp.get("/studio/lessons/<int:lesson_id>/quiz")
@operation(tags=[TAG], scope="read", model=StudioQuiz, not_found=True)
def quiz_detail(lesson_id: int):
    """A quiz lesson's questions, with the answers"""
    return _quiz(_mine(access_quiz_for_edit, lesson_id))


@bp.patch("/studio/lessons/<int:lesson_id>/quiz")
@operation(tags=[TAG], scope="teach", json=QuizChanges, model=StudioQuiz, not_found=True, conflict=True)
def quiz_update(lesson_id: int, json: QuizChanges):
    """Set a quiz's pass mark"""
    quiz = _mine(access_quiz_for_edit, lesson_id)
    quizzes.set_pass_mark(g.api_grant.user, quiz, json.pass_mark_percent)
    db.session.commit()
    return _quiz(quiz)


@bp.post("/studio/lessons/<int:lesson_id>/quiz/questions")
@operation(tags=[TAG], scope="teach", json=NewQuestion, model=StudioQuestion, ok=201, not_found=True,
           conflict=True)
def question_create(lesson_id: int, json: NewQuestion):
    """Add a question

    Single choice, multiple choice, or true/false (which comes with its two options)."""
    question = quizzes.add_question(g.api_grant.user, _mine(access_quiz_for_edit, lesson_id),
                                    prompt=json.prompt, kind=json.kind, explanation=json.explanation)
    db.session.commit()
    return _question(question), 201


@bp.patch("/studio/questions/<int:question_id>")
@operation(tags=[TAG], scope="teach", json=QuestionChanges, model=StudioQuestion, not_found=True, conflict=True)
def question_update(question_id: int, json: QuestionChanges):
    """Change a question's prompt and explanation"""
    question = _mine(access_question_for_edit, question_id)
    quizzes.update_question(g.api_grant.user, question, prompt=json.prompt, explanation=json.explanation)
    db.session.commit()
    return _question(question)


@bp.delete("/studio/questions/<int:question_id>")
@operation(tags=[TAG], scope="teach", ok=204, not_found=True, conflict=True)
def question_delete(question_id: int):
    """Delete a question"""
    quizzes.delete_question(g.api_grant.user, _mine(access_question_for_edit, question_id))
    db.session.commit()
    return "", 204


@bp.post("/studio/questions/<int:question_id>/options")
@operation(tags=[TAG], scope="teach", json=NewOption, model=StudioQuestion, ok=201, not_found=True,
           conflict=True)
def option_create(question_id: int, json: NewOption):
    """Add an answer option"""
    question = _mine(access_question_for_edit, question_id)
    quizzes.add_option(g.api_grant.user, question, text=json.text, is_correct=json.is_correct)
    db.session.commit()
    return _question(question), 201


@bp.patch("/studio/options/<int:option_id>")
@operation(tags=[TAG], scope="teach", json=OptionChanges, model=StudioQuestion, not_found=True, conflict=True)
def option_update(option_id: int, json: OptionChanges):
    """Mark an option correct or not

    A single-answer question keeps exactly one correct option."""
    option = _mine(access_option_for_edit, option_id)
    quizzes.set_correct(g.api_grant.user, option, json.is_correct)
    db.session.commit()
    return _question(option.question)


@bp.delete("/studio/options/<int:option_id>")
@operation(tags=[TAG], scope="teach", ok=204, not_found=True, conflict=True)
def option_delete(option_id: int):
    """Delete an answer option"""
    quizzes.delete_option(g.api_grant.user, _mine(access_option_for_edit, option_id))
    db.session.commit()
    return "", 204
