"""Complete courses for the learning tests, built through the catalog services (as app/demo.py
does), and the small helpers every learning test uses."""
from __future__ import annotations

import io

from app.catalog import courses, publishing, quizzes, structure
from app.catalog.queries import categories
from app.catalog.samples import pdf, png, video
from app.extensions import db
from app.learning import attempts, progress
from app.learning.queries import ordered_lessons

DESCRIPTION = ("Short, practical lessons with a quiz at the end. " * 6).strip()  # > 200 chars


def add_lesson(creator, section, kind: str, title: str | None = None):
    """A lesson of `kind` with content, so the course passes the review checklist."""
    lesson = structure.add_lesson(creator, section, title=title or f"A {kind} lesson", kind=kind)
    if kind == "video":
        structure.set_lesson_media(creator, lesson, io.BytesIO(video()), "clip.webm")
    elif kind == "pdf":
        structure.set_lesson_media(creator, lesson, io.BytesIO(pdf("Notes", ["one", "two"])),
                                   "notes.pdf")
    elif kind == "text":
        structure.update_lesson(creator, lesson, body="## Read me\n\nStart small.")
    elif kind == "quiz":
        question = quizzes.add_question(creator, lesson.quiz, prompt="Start how?",
                                        explanation="Small steps keep you moving.")
        quizzes.add_option(creator, question, text="Small", is_correct=True)
        quizzes.add_option(creator, question, text="Big")
    return lesson


def course_with_kinds(creator, approver, *, kinds=("video", "pdf", "text", "quiz"), price="0",
                 title="Practical SQL", publish=True, preview_first=True):
    """A course of `creator` whose lessons have `kinds` (in one section, in order), published by
    `approver` unless `publish` is false, committed."""
    course = courses.create_course(creator, title=title, category_id=categories()[0].id,
                                   accept_terms=True)
    courses.update_course_field(creator, course, "description", DESCRIPTION)
    courses.set_price(creator, course, price)
    courses.set_cover(creator, course, io.BytesIO(png(16, 9)), "cover.png")
    section = structure.add_section(creator, course, title="Basics")
    for n, kind in enumerate(kinds, 1):
        add_lesson(creator, section, kind, title=f"Lesson {n} ({kind})")
    if preview_first:
        structure.update_lesson(creator, section.lessons[0], is_free_preview=True)
    if publish:
        publishing.submit_for_review(creator, course)
        publishing.approve_course(approver, course)
    db.session.commit()
    return course


def lessons_of(course):
    return ordered_lessons(course.id)


def right_answers(lesson) -> dict[int, list[int]]:
    return {q.id: [o.id for o in q.options if o.is_correct] for q in lesson.quiz.questions}


def wrong_answers(lesson) -> dict[int, list[int]]:
    return {q.id: [next(o.id for o in q.options if not o.is_correct)] for q in lesson.quiz.questions}


def finish_course(learner, course) -> None:
    """Complete every lesson (passing each quiz) and commit."""
    for lesson in lessons_of(course):
        if lesson.kind == "quiz":
            attempts.submit_quiz(learner, lesson, right_answers(lesson))
        else:
            progress.complete_lesson(learner, lesson)
    db.session.commit()


def named(emitted, name: str) -> list[dict]:
    """The payloads of the delivered events called `name`."""
    return [event.payload for event in emitted if event.name == name]



