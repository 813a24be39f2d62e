"""Courses in the studio, made through the services (complete or not, at any workflow status),
and what the studio stored: lessons by kind, media files and assets."""
from __future__ import annotations

import io
import os

import sqlalchemy as sa

from app.catalog import courses, publishing, quizzes, structure
from app.catalog.models import Course, Lesson, MediaAsset
from app.catalog.samples import pdf, png, video
from app.extensions import db
from tests.support.catalog import category

DESCRIPTION = ("A practical course about testing web applications, one small step at a time. "
               "Every lesson ends with an exercise, and the quiz checks what stuck. ") * 2


def build_course(owner, *, title: str = "Practical Testing", status: str = "draft", price: int = 0,
                 reviewer=None, complete: bool = True, now=None) -> Course:
    """A course made through the services. With `complete` it passes the review checklist:
    description, cover, a category and one section with a free-preview video, a PDF, a text
    lesson and a quiz (a true/false question and a single-choice one). `status` takes it
    through the workflow (`reviewer` approves it)."""
    course = courses.create_course(owner, title=title, category_id=category().id, accept_terms=True)
    if complete:
        courses.update_course_field(owner, course, "description", DESCRIPTION)
        courses.set_cover(owner, course, io.BytesIO(png(64, 36)), "cover.png")
        section = structure.add_section(owner, course, title="Basics")
        clip = structure.add_lesson(owner, section, title="Welcome video", kind="video")
        structure.set_lesson_media(owner, clip, io.BytesIO(video()), "welcome.webm")
        structure.update_lesson(owner, clip, is_free_preview=True, duration_minutes=2)
        notes = structure.add_lesson(owner, section, title="Course notes", kind="pdf")
        structure.set_lesson_media(owner, notes, io.BytesIO(pdf("Notes", ["Line one"])), "notes.pdf")
        reading = structure.add_lesson(owner, section, title="The first principle", kind="text")
        structure.update_lesson(owner, reading, body="## Start small\n\nMake it *work* first.")
        check = structure.add_lesson(owner, section, title="Check yourself", kind="quiz")
        yes_no = quizzes.add_question(owner, check.quiz, prompt="Tests find bugs.", kind="true_false")
        quizzes.set_correct(owner, yes_no.options[0], True)
        choice = quizzes.add_question(owner, check.quiz, prompt="What comes first?", kind="single",
                                      explanation="Small steps.")
        quizzes.add_option(owner, choice, text="A tiny goal", is_correct=True)
        quizzes.add_option(owner, choice, text="A big plan")
    courses.set_price(owner, course, price)
    if status in ("under_review", "published", "unpublished"):
        publishing.submit_for_review(owner, course, now=now)
    if status in ("published", "unpublished"):
        publishing.approve_course(reviewer, course)
    if status == "unpublished":
        publishing.unpublish_course(owner, course)
    db.session.commit()
    return course


def lesson_of(course: Course, kind: str) -> Lesson:
    return next(lesson for lesson in course.lessons if lesson.kind == kind)


def media_files(app) -> set[str]:
    root = app.config["MEDIA_STORAGE"]
    return set(os.listdir(root)) if os.path.isdir(root) else set()


def asset_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))

