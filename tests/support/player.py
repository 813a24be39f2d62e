"""A complete course to learn in the player (made through the services), and enrolling in it,
finishing it or losing access to it, for the HTTP-level learning tests."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog import courses, publishing, quizzes, structure
from app.catalog.models import Category, Course, Lesson
from app.catalog.samples import pdf, video
from app.extensions import db
from app.learning import attempts, discussions, enrollment, progress
from app.learning.models import Enrollment, Post, Thread
from tests.factories import make_user
from tests.support.learning import right_answers
from tests.support.uploads import png

DESCRIPTION = ("Learning by doing: short lessons, one idea at a time, then a quiz to check "
               "what stuck and a closing lesson that ties it together. ") * 3


SINGLE_EXPLANATION = "Small steps keep you moving forward."
TRUE_FALSE_EXPLANATION = "Every failing test is a bug found early."


def learning_course(owner, approver, *, title: str = "Learning by Doing", price: int = 0,
                    status: str = "published") -> Course:
    """A complete course made through the services. Lessons, in order: "Welcome video" (video,
    free preview), "Course notes" (PDF), "The first principle" (text), "Check yourself" (quiz:
    one single-choice and one true/false question, pass mark 70%), "Wrap-up" (text).
    `status` is draft, published or unpublished (`approver` reviews it)."""
    category = db.session.scalars(sa.select(Category).order_by(Category.position)).first()
    course = courses.create_course(owner, title=title, category_id=category.id, accept_terms=True)
    courses.update_course_field(owner, course, "description", DESCRIPTION)
    courses.set_cover(owner, course, io.BytesIO(png(64, 36)), "cover.png")
    basics = structure.add_section(owner, course, title="Basics")
    clip = structure.add_lesson(owner, basics, title="Welcome video", kind="video")
    structure.set_lesson_media(owner, clip, io.BytesIO(video()), "welcome.webm")
    structure.update_lesson(owner, clip, is_free_preview=True, duration_minutes=2)
    notes = structure.add_lesson(owner, basics, title="Course notes", kind="pdf")
    structure.set_lesson_media(owner, notes, io.BytesIO(pdf("Notes", ["Line one"])), "notes.pdf")
    reading = structure.add_lesson(owner, basics, title="The first principle", kind="text")
    structure.update_lesson(owner, reading, body="## Start small\n\nMake it *work* first.")
    practice = structure.add_section(owner, course, title="Practice")
    check = structure.add_lesson(owner, practice, title="Check yourself", kind="quiz")
    choice = quizzes.add_question(owner, check.quiz, prompt="What comes first?", kind="single",
                                  explanation=SINGLE_EXPLANATION)
    quizzes.add_option(owner, choice, text="A tiny goal", is_correct=True)
    quizzes.add_option(owner, choice, text="A big plan")
    yes_no = quizzes.add_question(owner, check.quiz, prompt="Tests find bugs.", kind="true_false",
                                  explanation=TRUE_FALSE_EXPLANATION)
    quizzes.set_correct(owner, yes_no.options[0], True)
    wrap = structure.add_lesson(owner, practice, title="Wrap-up", kind="text")
    structure.update_lesson(owner, wrap, body="That is all: **well done**.")
    courses.set_price(owner, course, price)
    if status in ("published", "unpublished"):
        publishing.submit_for_review(owner, course)
        publishing.approve_course(approver, course)
    if status == "unpublished":
        publishing.unpublish_course(owner, course)
    db.session.commit()
    return course


def lesson(course: Course, title: str) -> Lesson:
    return next(item for item in course.lessons if item.title == title)


def enroll(user, course: Course) -> Enrollment:
    """Enrolled through the one enrollment service (free, or an admin grant for paid courses)."""
    if course.is_free:
        found = enrollment.enroll(user, course, source="free")
    else:
        granter = db.session.scalar(sa.select(User).where(User.email == "granter@example.test"))
        if granter is None:
            granter = make_user(email="granter@example.test", permissions=("manage_users",))
        found = enrollment.enroll(user, course, source="admin", granted_by=granter)
    db.session.commit()
    return found


def revoked(user, course: Course) -> Enrollment:
    found = enroll(user, course)
    enrollment.revoke(found, reason="refunded")
    db.session.commit()
    return found


def complete(user, course: Course) -> Enrollment:
    """Finish every lesson through the services (the quiz by passing it)."""
    found = enrollment.enroll(user, course, source="free") if course.is_free else enroll(user, course)
    for item in sorted(course.lessons, key=lambda lsn: (lsn.section.position, lsn.position)):
        if item.kind == "quiz":
            attempts.submit_quiz(user, item, right_answers(item))
        else:
            progress.complete_lesson(user, item)
    db.session.commit()
    return found


def player_url(course, title: str) -> str:
    return f"/learn/{course.id}/lessons/{lesson(course, title).id}"


def ask_question(learner, course) -> Thread:
    """`learner` enrolls in `course` and asks a question in its discussions (committed)."""
    enroll(learner, course)
    started = discussions.start_thread(learner, course, title="How small is small?",
                                       body="What counts as a *tiny* goal?")
    db.session.commit()
    return started


def reply_as(user, thread, body="A reply.") -> Post:
    post = discussions.reply(user, thread, body=body)
    db.session.commit()
    return post
