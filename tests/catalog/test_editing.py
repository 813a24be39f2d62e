"""The editing loaders (a missing row is NotFound, someone else's course NotAllowed) and the one
"locked while under review" rule, which every editing service enforces itself."""
from __future__ import annotations

import io

import pytest

from app.catalog import courses, editing, publishing, quizzes, structure
from app.catalog.errors import CourseLocked
from app.catalog.samples import png, video
from app.dbtypes import utcnow
from app.errors import NotAllowed, NotFound


def parts(course):
    """The ids of the course's first section, its video lesson, its quiz lesson, that quiz's
    first question and that question's first option (reviewable_draft's shape)."""
    section = course.sections[0]
    video_lesson = next(lesson for lesson in section.lessons if lesson.kind == "video")
    quiz_lesson = next(lesson for lesson in section.lessons if lesson.kind == "quiz")
    question = quiz_lesson.quiz.questions[0]
    return {"course": course.id, "section": section.id, "lesson": video_lesson.id,
            "quiz": quiz_lesson.id, "question": question.id, "option": question.options[0].id}


LOADERS = {
    "course": editing.access_course_for_edit,
    "section": editing.access_section_for_edit,
    "lesson": editing.access_lesson_for_edit,
    "quiz": editing.access_quiz_for_edit,
    "question": editing.access_question_for_edit,
    "option": editing.access_option_for_edit,
}


# --- loaders ---------------------------------------------------------------------------------

def test_the_creator_loads_each_part_of_their_course(db, creator, ready_course):
    ids = parts(ready_course)
    loaded = {noun: load(creator, ids[noun]) for noun, load in LOADERS.items()}
    assert loaded["course"] is ready_course
    assert loaded["section"] is ready_course.sections[0]
    assert loaded["lesson"].kind == "video" and loaded["lesson"].id == ids["lesson"]
    assert loaded["quiz"].lesson.id == ids["quiz"]
    assert loaded["question"].id == ids["question"] and loaded["option"].id == ids["option"]


@pytest.mark.parametrize("noun", LOADERS)
def test_a_missing_part_is_not_found(db, creator, noun):
    with pytest.raises(NotFound):
        LOADERS[noun](creator, 999_999)


@pytest.mark.parametrize("noun", LOADERS)
def test_another_creators_course_is_not_allowed_not_hidden(db, make_user, ready_course, noun):
    """Another creator gets a 403 (NotAllowed), as the studio always answered, not a 404."""
    with pytest.raises(NotAllowed):
        LOADERS[noun](make_user(), parts(ready_course)[noun])


@pytest.mark.parametrize("noun", LOADERS)
def test_admins_and_reviewers_do_not_edit_a_creators_course(db, admin, reviewer, ready_course, noun):
    for actor in (admin, reviewer):
        with pytest.raises(NotAllowed):
            LOADERS[noun](actor, parts(ready_course)[noun])


@pytest.mark.parametrize("noun", LOADERS)
def test_the_anonymous_visitor_edits_nothing(db, anonymous, ready_course, noun):
    with pytest.raises(NotAllowed):
        LOADERS[noun](anonymous, parts(ready_course)[noun])


@pytest.mark.parametrize("noun", LOADERS)
def test_a_suspended_creator_edits_nothing(db, creator, ready_course, noun):
    ids = parts(ready_course)
    creator.suspended_at = utcnow()
    with pytest.raises(NotAllowed):
        LOADERS[noun](creator, ids[noun])


def test_a_lesson_that_is_not_a_quiz_has_no_quiz(db, creator, make_user, ready_course):
    video_lesson = parts(ready_course)["lesson"]
    with pytest.raises(NotFound, match="not a quiz"):
        editing.access_quiz_for_edit(creator, video_lesson)
    with pytest.raises(NotAllowed):  # someone else learns nothing about the lesson's kind
        editing.access_quiz_for_edit(make_user(), video_lesson)


@pytest.mark.parametrize("noun", LOADERS)
def test_a_locked_course_still_loads_for_its_creator(db, creator, submitted_course, noun):
    """The editor shows a course under review (read-only); the services refuse the changes."""
    assert LOADERS[noun](creator, parts(submitted_course)[noun]) is not None


# --- the lock --------------------------------------------------------------------------------

@pytest.mark.parametrize("status, locked", [
    ("draft", False), ("under_review", True), ("published", False), ("unpublished", False),
])
def test_only_a_course_under_review_is_locked(db, creator, make_course, status, locked):
    course = make_course(creator, status=status)
    assert editing.is_locked_for_editing(course) is locked
    if locked:
        with pytest.raises(CourseLocked):
            editing.ensure_editable(course)
    else:
        editing.ensure_editable(course)


def test_a_submitted_course_is_locked_and_withdrawing_unlocks_it(db, creator, submitted_course):
    assert editing.is_locked_for_editing(submitted_course)
    publishing.withdraw_submission(creator, submitted_course)
    assert not editing.is_locked_for_editing(submitted_course)
    courses.update_course_field(creator, submitted_course, "title", "Practical SQL, again")


def test_every_editing_service_refuses_a_course_under_review(db, creator, submitted_course):
    """Whoever calls them (a studio page, the API), nothing of a course under review changes."""
    ids = parts(submitted_course)
    section = editing.access_section_for_edit(creator, ids["section"])
    lesson = editing.access_lesson_for_edit(creator, ids["lesson"])
    quiz = editing.access_quiz_for_edit(creator, ids["quiz"])
    question = editing.access_question_for_edit(creator, ids["question"])
    option = editing.access_option_for_edit(creator, ids["option"])
    attempts = {
        "field": lambda: courses.update_course_field(creator, submitted_course, "title", "X"),
        "price": lambda: courses.set_price(creator, submitted_course, "5.00"),
        "cover": lambda: courses.set_cover(creator, submitted_course, io.BytesIO(png(16, 9)), "c.png"),
        "add section": lambda: structure.add_section(creator, submitted_course, title="X"),
        "rename section": lambda: structure.rename_section(creator, section, title="X"),
        "add lesson": lambda: structure.add_lesson(creator, section, title="X", kind="text"),
        "lesson": lambda: structure.update_lesson(creator, lesson, title="X"),
        "media": lambda: structure.set_lesson_media(creator, lesson, io.BytesIO(video()), "v.webm"),
        "pass mark": lambda: quizzes.set_pass_mark(creator, quiz, 50),
        "question": lambda: quizzes.update_question(creator, question, prompt="X"),
        "option": lambda: quizzes.set_correct(creator, option, True),
    }
    for name, attempt in attempts.items():
        with pytest.raises(CourseLocked):
            attempt()
            pytest.fail(f"{name}: changed a course under review")
        db.session.rollback()
    db.session.expire_all()
    assert submitted_course.title == "Practical SQL" and submitted_course.status == "under_review"
