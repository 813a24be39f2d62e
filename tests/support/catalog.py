"""Categories, and course drafts for the course service tests complete enough to pass the review
checklist."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.catalog import courses, quizzes, structure
from app.catalog.models import Category
from app.catalog.queries import categories
from app.catalog.samples import pdf, png, video
from app.extensions import db

DESCRIPTION = ("A practical course in short lessons. " * 8).strip()  # > 200 characters


def category(key: str | int = 0) -> Category:
    """The category with the slug `key`, or the `key`-th one in the order the site lists them."""
    if isinstance(key, str):
        return db.session.scalar(sa.select(Category).where(Category.slug == key))
    return db.session.scalars(sa.select(Category).order_by(Category.position, Category.id)).all()[key]


def reviewable_draft(creator, *, title: str = "Practical SQL", price: str = "19.99", cover: bool = True):
    """A course that passes the review checklist: description, cover, category, one section
    with a video, a PDF, a text lesson and a quiz whose question has a correct answer."""
    course = courses.create_course(creator, title=title, category_id=categories()[0].id,
                                   accept_terms=True)
    courses.update_course_field(creator, course, "description", DESCRIPTION)
    courses.set_price(creator, course, price)
    if cover:
        courses.set_cover(creator, course, io.BytesIO(png(16, 9)), "cover.png")
    section = structure.add_section(creator, course, title="Basics")
    intro = structure.add_lesson(creator, section, title="Welcome", kind="video")
    structure.set_lesson_media(creator, intro, io.BytesIO(video()), "welcome.webm")
    structure.update_lesson(creator, intro, is_free_preview=True)
    notes = structure.add_lesson(creator, section, title="Notes", kind="pdf")
    structure.set_lesson_media(creator, notes, io.BytesIO(pdf("Notes", ["one", "two"])), "notes.pdf")
    reading = structure.add_lesson(creator, section, title="Reading", kind="text")
    structure.update_lesson(creator, reading, body="## Read me\n\nStart small.")
    check = structure.add_lesson(creator, section, title="Check", kind="quiz")
    question = quizzes.add_question(creator, check.quiz, prompt="Start how?")
    quizzes.add_option(creator, question, text="Small", is_correct=True)
    quizzes.add_option(creator, question, text="Big")
    return course

