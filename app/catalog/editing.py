"""Who may edit what, and when: the loaders every editing screen or API handler starts with,
and the one "locked while under review" rule.

Each loader fetches a course, section, lesson, quiz, question or option by id for `actor`:
NotFound when there is no such row, NotAllowed (403) when the actor may not edit its course
(another creator's course is a 403, not a 404). The editing services (courses, structure,
quizzes) check the same rule again, and refuse a locked course with CourseLocked, so a caller
that skips the loader still cannot edit what it may not.
"""
from __future__ import annotations

from app.accounts.models import User
from app.catalog.errors import CourseLocked
from app.catalog.models import Course, Lesson, Quiz, QuizOption, QuizQuestion, Section
from app.catalog.permissions import can_edit_course
from app.catalog.queries import get_course, get_lesson, get_section
from app.errors import NotFound
from app.extensions import db
from app.policy import require


def is_locked_for_editing(course: Course) -> bool:
    """A course waiting for a reviewer cannot be changed until it is withdrawn from review."""
    return course.status == "under_review"


def ensure_editable(course: Course) -> None:
    if is_locked_for_editing(course):
        raise CourseLocked()


def _require_edit(actor: User, course: Course) -> None:
    require(can_edit_course(actor, course), "edit this course")


def access_course_for_edit(actor: User, course_id: int) -> Course:
    course = get_course(course_id)
    _require_edit(actor, course)
    return course


def access_section_for_edit(actor: User, section_id: int) -> Section:
    section = get_section(section_id)
    _require_edit(actor, section.course)
    return section


def access_lesson_for_edit(actor: User, lesson_id: int) -> Lesson:
    lesson = get_lesson(lesson_id)
    _require_edit(actor, lesson.section.course)
    return lesson


def access_quiz_for_edit(actor: User, lesson_id: int) -> Quiz:
    """The quiz of a lesson the actor may edit; other kinds of lesson have none."""
    lesson = access_lesson_for_edit(actor, lesson_id)
    if lesson.quiz is None:
        raise NotFound("This lesson is not a quiz.")
    return lesson.quiz


def access_question_for_edit(actor: User, question_id: int) -> QuizQuestion:
    question = db.session.get(QuizQuestion, question_id)
    if question is None:
        raise NotFound()
    _require_edit(actor, question.quiz.lesson.section.course)
    return question


def access_option_for_edit(actor: User, option_id: int) -> QuizOption:
    option = db.session.get(QuizOption, option_id)
    if option is None:
        raise NotFound()
    _require_edit(actor, option.question.quiz.lesson.section.course)
    return option
