"""Curriculum edits at the same moment (issue #13, item 11), on real PostgreSQL with committed
data: moves, deletes and additions from several tabs never give a 500 — each runs on what the
previous one left (409 with a reason when its section or lesson is gone, nothing to do when it
was being deleted anyway) — and positions stay 0, 1, 2, ... in every section and the course."""
from __future__ import annotations

import random
import sys
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog import quizzes, structure
from app.catalog.models import Course, Lesson, QuizOption, QuizQuestion, Section
from app.errors import Conflict
from app.extensions import db as _db
from tests import factories

# Two real connections race on an app of their own, whose data is really committed.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


@pytest.fixture
def outline(committed_app):
    """A draft course of 3 sections x 4 lessons, committed: (app, creator id, course id)."""
    app = committed_app
    with app.app_context():
        creator = factories.make_user()
        course = factories.make_course(creator)
        for s in range(3):
            section = structure.add_section(creator, course, title=f"Section {s}")
            for n in range(4):
                structure.add_lesson(creator, section, title=f"Lesson {s}.{n}", kind="text")
        _db.session.commit()
        ids = creator.id, course.id
        _db.session.remove()
    return app, *ids


@contextmanager
def tab(app):
    """One request's own session and connection (an app context of its own)."""
    with app.app_context():
        try:
            yield _db.session
        finally:
            _db.session.remove()


def first_lessons(app, course_id: int) -> list[list[int]]:
    with tab(app) as session:
        sections = session.scalars(sa.select(Section).where(Section.course_id == course_id)
                                   .order_by(Section.position)).all()
        return [[lesson.id for lesson in section.lessons] for section in sections]


def assert_contiguous(app, course_id: int) -> None:
    with tab(app) as session:
        sections = session.scalars(sa.select(Section).where(Section.course_id == course_id)).all()
        assert sorted(s.position for s in sections) == list(range(len(sections)))
        for section in sections:
            positions = sorted(session.scalars(sa.select(Lesson.position).where(Lesson.section_id == section.id)))
            assert positions == list(range(len(positions))), (section.title, positions)


def test_a_move_after_another_tab_moved_the_lesson_to_another_section(outline):
    """Tab B loaded the lesson (as the view does) before tab A moved it into the next section."""
    app, creator_id, course_id = outline
    last_of_first = first_lessons(app, course_id)[0][-1]
    with tab(app) as b:
        lesson = b.get(Lesson, last_of_first)
        actor = b.get(User, creator_id)
        assert lesson.section.course.id == course_id  # what `editing.access_lesson_for_edit` loads
        with tab(app) as a:
            structure.move_lesson(a.get(User, creator_id), a.get(Lesson, last_of_first), "down")
            a.commit()
        structure.move_lesson(actor, lesson, "down")
        b.commit()
    outline_now = first_lessons(app, course_id)
    assert last_of_first == outline_now[1][1] and len(outline_now[0]) == 3
    assert_contiguous(app, course_id)


@pytest.mark.parametrize("change", ["move_lesson", "delete_lesson"])
def test_a_lesson_another_tab_deleted(outline, change):
    app, creator_id, course_id = outline
    target = first_lessons(app, course_id)[0][1]
    with tab(app) as b:
        lesson, actor = b.get(Lesson, target), b.get(User, creator_id)
        assert lesson.section.course.id == course_id
        with tab(app) as a:
            structure.delete_lesson(a.get(User, creator_id), a.get(Lesson, target))
            a.commit()
        if change == "move_lesson":
            with pytest.raises(Conflict, match="deleted meanwhile"):
                structure.move_lesson(actor, lesson, "up")
        else:
            structure.delete_lesson(actor, lesson)  # already done: nothing to do
        b.commit()
    assert [len(lessons) for lessons in first_lessons(app, course_id)] == [3, 4, 4]
    assert_contiguous(app, course_id)


@pytest.mark.parametrize("change", ["add_lesson", "move_section", "delete_section"])
def test_a_section_another_tab_deleted(outline, change):
    app, creator_id, course_id = outline
    with tab(app) as session:
        target = session.scalar(sa.select(Section.id).where(Section.course_id == course_id,
                                                             Section.position == 1))
    with tab(app) as b:
        section, actor = b.get(Section, target), b.get(User, creator_id)
        assert section.course.id == course_id
        with tab(app) as a:
            structure.delete_section(a.get(User, creator_id), a.get(Section, target))
            a.commit()
        if change == "add_lesson":
            with pytest.raises(Conflict, match="deleted meanwhile"):
                structure.add_lesson(actor, section, title="Late", kind="text")
        elif change == "move_section":
            with pytest.raises(Conflict, match="deleted meanwhile"):
                structure.move_section(actor, section, "up")
        else:
            structure.delete_section(actor, section)
        b.commit()
    assert [len(lessons) for lessons in first_lessons(app, course_id)] == [4, 4]
    assert_contiguous(app, course_id)


def signed_in(app, user_id: int):
    client = app.test_client()
    with app.app_context():
        email = _db.session.get(User, user_id).email
    resp = client.post("/auth/login", data={"email": email, "password": factories.PASSWORD})
    assert resp.status_code in (302, 303)
    return client


@pytest.fixture
def fast_switching():
    """Threads switch every 10 µs (not 5 ms), so the requests' transactions interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def test_four_tabs_reordering_deleting_and_adding_at_once(outline, fast_switching):
    """Four clients, each with its own session, fire 40 random outline edits each at once."""
    app, creator_id, course_id = outline
    with tab(app) as session:
        section_ids = list(session.scalars(sa.select(Section.id).where(Section.course_id == course_id)))
        lesson_ids = list(session.scalars(sa.select(Lesson.id).where(Lesson.course_id == course_id)))
    clients = [signed_in(app, creator_id) for _ in range(4)]
    start = threading.Barrier(len(clients))
    statuses: list = []

    def edit(client, seed: int):
        pick = random.Random(seed)
        start.wait(timeout=10)
        for _ in range(40):
            roll = pick.random()
            if roll < 0.5:
                url, data = f"/studio/lessons/{pick.choice(lesson_ids)}/move", {"direction": pick.choice(("up", "down"))}
            elif roll < 0.7:
                url, data = f"/studio/sections/{pick.choice(section_ids)}/move", {"direction": pick.choice(("up", "down"))}
            elif roll < 0.85:
                url, data = f"/studio/sections/{pick.choice(section_ids)}/lessons", {"title": "Added", "kind": "text"}
            else:
                url, data = f"/studio/lessons/{pick.choice(lesson_ids)}/delete", {}
            try:
                statuses.append(client.post(url, data=data, headers={"HX-Request": "true"}).status_code)
            except Exception as exc:  # noqa: BLE001 — the test client raises what would be a 500
                statuses.append(repr(exc))

    threads = [threading.Thread(target=edit, args=(client, n)) for n, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 160 and set(statuses) <= {200, 404, 409}, statuses
    assert_contiguous(app, course_id)
    with tab(app) as session:
        assert session.get(Course, course_id).status == "draft"


@pytest.mark.parametrize("change", ["delete_question", "add_option", "delete_option"])
def test_a_quiz_question_another_tab_deleted(outline, change):
    app, creator_id, course_id = outline
    with tab(app) as session:
        creator = session.get(User, creator_id)
        section = session.scalar(sa.select(Section).where(Section.course_id == course_id).limit(1))
        quiz = structure.add_lesson(creator, section, title="Check", kind="quiz").quiz
        question = quizzes.add_question(creator, quiz, prompt="Two plus two?", kind="multiple")
        for text in ("3", "4", "5"):
            quizzes.add_option(creator, question, text=text)
        session.commit()
        question_id, option_id = question.id, question.options[0].id
    with tab(app) as b:
        question, actor = b.get(QuizQuestion, question_id), b.get(User, creator_id)
        option = b.get(QuizOption, option_id)
        assert question.quiz.lesson.section.course.id == course_id and option.question is question
        with tab(app) as a:
            quizzes.delete_question(a.get(User, creator_id), a.get(QuizQuestion, question_id))
            a.commit()
        if change == "add_option":
            with pytest.raises(Conflict, match="deleted meanwhile"):
                quizzes.add_option(actor, question, text="Late")
        elif change == "delete_option":
            quizzes.delete_option(actor, option)  # went with its question: nothing to do
        else:
            quizzes.delete_question(actor, question)
        b.commit()
    with tab(app) as session:
        assert session.get(QuizQuestion, question_id) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(QuizOption)
                              .where(QuizOption.question_id == question_id)) == 0
