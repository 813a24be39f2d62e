"""Sections and lessons: add, rename, edit, delete, reorder (app/catalog/structure.py)."""
from __future__ import annotations

import io
import random

import pytest
import sqlalchemy as sa

from app.catalog import structure
from app.catalog.errors import CourseLocked, IllegalTransition
from app.catalog.models import Course, Lesson, Quiz, Section
from app.catalog.samples import pdf, video
from app.errors import Invalid, NotAllowed


def titles(items) -> list[str]:
    return [item.title for item in items]


def assert_contiguous(course: Course) -> None:
    """Positions are 0..n-1 in order, for the sections and for each section's lessons."""
    assert [s.position for s in course.sections] == list(range(len(course.sections)))
    for section in course.sections:
        assert [lesson.position for lesson in section.lessons] == list(range(len(section.lessons)))
        assert all(lesson.section_id == section.id for lesson in section.lessons)


def reload(db, course: Course) -> Course:
    """The course as the database has it: commit, forget everything loaded, read it back."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Course, course.id)


@pytest.fixture
def course(creator, make_course):
    return make_course(creator)


@pytest.fixture
def two_sections(db, creator, course):
    """Section A with lessons a1, a2, a3 and section B with b1, b2 (committed)."""
    a = structure.add_section(creator, course, title="A")
    b = structure.add_section(creator, course, title="B")
    for name in ("a1", "a2", "a3"):
        structure.add_lesson(creator, a, title=name, kind="text")
    for name in ("b1", "b2"):
        structure.add_lesson(creator, b, title=name, kind="text")
    db.session.commit()
    return course


def layout(course: Course) -> list[list[str]]:
    return [titles(section.lessons) for section in course.sections]


# --- sections ----------------------------------------------------------------------------

def test_sections_are_added_at_the_end(db, creator, course):
    for title in ("Intro", "Core", "Wrap-up"):
        structure.add_section(creator, course, title=title)
    course = reload(db, course)
    assert titles(course.sections) == ["Intro", "Core", "Wrap-up"]
    assert_contiguous(course)


@pytest.mark.parametrize("title", ["", "   ", "t" * 121])
def test_a_section_needs_a_sensible_title(db, creator, course, title):
    with pytest.raises(Invalid) as exc:
        structure.add_section(creator, course, title=title)
    assert exc.value.field == "title"
    assert reload(db, course).sections == []


def test_a_section_can_be_renamed(db, creator, course):
    section = structure.add_section(creator, course, title="Old")
    structure.rename_section(creator, section, title="  New   name ")
    assert titles(reload(db, course).sections) == ["New name"]


def test_renaming_to_nothing_is_refused(db, creator, course):
    section = structure.add_section(creator, course, title="Old")
    with pytest.raises(Invalid):
        structure.rename_section(creator, section, title=" ")
    assert section.title == "Old"


def test_deleting_a_section_renumbers_the_others(db, creator, two_sections):
    a = two_sections.sections[0]
    structure.delete_section(creator, a)
    course = reload(db, two_sections)
    assert titles(course.sections) == ["B"]
    assert_contiguous(course)
    assert {lesson.title for lesson in course.lessons} == {"b1", "b2"}


def test_a_draft_section_is_deleted_with_its_lessons(db, creator, two_sections):
    a = two_sections.sections[0]
    lesson_ids = [lesson.id for lesson in a.lessons]
    structure.delete_section(creator, a)
    reload(db, two_sections)
    assert all(db.session.get(Lesson, lesson_id) is None for lesson_id in lesson_ids)


def test_a_published_section_with_lessons_cannot_be_deleted(db, creator, two_sections):
    two_sections.status = "published"
    with pytest.raises(IllegalTransition):
        structure.delete_section(creator, two_sections.sections[0])
    assert titles(reload(db, two_sections).sections) == ["A", "B"]


def test_an_empty_section_of_a_published_course_can_be_deleted(db, creator, make_course):
    course = make_course(creator, status="published")
    empty = structure.add_section(creator, course, title="Empty")
    structure.delete_section(creator, empty)
    assert reload(db, course).sections == []


def test_sections_move_up_and_down(db, creator, two_sections):
    c = structure.add_section(creator, two_sections, title="C")
    structure.move_section(creator, c, "up")
    assert titles(two_sections.sections) == ["A", "C", "B"]
    structure.move_section(creator, c, "up")
    structure.move_section(creator, c, "up")  # already first: nothing happens
    course = reload(db, two_sections)
    assert titles(course.sections) == ["C", "A", "B"]
    assert_contiguous(course)
    structure.move_section(creator, course.sections[2], "down")  # already last
    assert titles(reload(db, course).sections) == ["C", "A", "B"]


def test_a_move_needs_a_direction(db, creator, two_sections):
    with pytest.raises(Invalid):
        structure.move_section(creator, two_sections.sections[0], "sideways")
    with pytest.raises(Invalid):
        structure.move_lesson(creator, two_sections.sections[0].lessons[0], "left")
    assert layout(reload(db, two_sections)) == [["a1", "a2", "a3"], ["b1", "b2"]]


# --- lessons ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["video", "pdf", "text", "quiz"])
def test_every_kind_of_lesson_can_be_added(db, creator, course, kind):
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title=f"A {kind}", kind=kind)
    course = reload(db, course)
    stored = course.lessons[0]
    assert (stored.id, stored.kind, stored.course_id) == (lesson.id, kind, course.id)
    assert (stored.quiz is not None) is (kind == "quiz")


def test_a_quiz_lesson_gets_an_empty_quiz_with_the_default_pass_mark(db, creator, course):
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="Check", kind="quiz")
    db.session.commit()
    quiz = db.session.get(Quiz, lesson.quiz.id)
    assert quiz.lesson_id == lesson.id and quiz.questions == [] and quiz.pass_mark_percent == 70


@pytest.mark.parametrize("kind", ["", "audio", "Video", "exe", None])
def test_unknown_lesson_kinds_are_refused(db, creator, course, kind):
    section = structure.add_section(creator, course, title="S")
    with pytest.raises(Invalid) as exc:
        structure.add_lesson(creator, section, title="X", kind=kind)
    assert exc.value.field == "kind"
    assert reload(db, course).lessons == []


@pytest.mark.parametrize("title", ["", "  ", "l" * 121])
def test_a_lesson_needs_a_sensible_title(db, creator, course, title):
    section = structure.add_section(creator, course, title="S")
    with pytest.raises(Invalid):
        structure.add_lesson(creator, section, title=title, kind="text")


def test_lessons_are_added_at_the_end_of_their_section(db, creator, two_sections):
    b = two_sections.sections[1]
    structure.add_lesson(creator, b, title="b3", kind="video")
    course = reload(db, two_sections)
    assert layout(course) == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]
    assert_contiguous(course)


def test_deleting_a_lesson_renumbers_its_section(db, creator, two_sections):
    structure.delete_lesson(creator, two_sections.sections[0].lessons[1])
    course = reload(db, two_sections)
    assert layout(course) == [["a1", "a3"], ["b1", "b2"]]
    assert_contiguous(course)


def test_lessons_move_within_their_section(db, creator, two_sections):
    a2 = two_sections.sections[0].lessons[1]
    structure.move_lesson(creator, a2, "up")
    assert layout(reload(db, two_sections)) == [["a2", "a1", "a3"], ["b1", "b2"]]
    a2 = db.session.get(Lesson, a2.id)
    structure.move_lesson(creator, a2, "down")
    course = reload(db, two_sections)
    assert layout(course) == [["a1", "a2", "a3"], ["b1", "b2"]]
    assert_contiguous(course)


def test_moving_the_last_lesson_down_moves_it_to_the_top_of_the_next_section(db, creator, two_sections):
    a3 = two_sections.sections[0].lessons[-1]
    structure.move_lesson(creator, a3, "down")
    course = reload(db, two_sections)
    assert layout(course) == [["a1", "a2"], ["a3", "b1", "b2"]]
    assert_contiguous(course)
    assert db.session.get(Lesson, a3.id).section_id == course.sections[1].id


def test_moving_the_first_lesson_up_moves_it_to_the_end_of_the_previous_section(db, creator, two_sections):
    b1 = two_sections.sections[1].lessons[0]
    structure.move_lesson(creator, b1, "up")
    course = reload(db, two_sections)
    assert layout(course) == [["a1", "a2", "a3", "b1"], ["b2"]]
    assert_contiguous(course)


def test_a_lesson_moved_across_sections_keeps_its_content(db, creator, two_sections):
    """As in a request: a fresh session, nothing loaded before the move."""
    a3 = two_sections.sections[0].lessons[-1]
    structure.update_lesson(creator, a3, body="Keep me")
    course = reload(db, two_sections)
    structure.move_lesson(creator, db.session.get(Lesson, a3.id), "down")
    course = reload(db, course)
    moved = db.session.get(Lesson, a3.id)
    assert moved is not None and moved.body == "Keep me"
    assert layout(course) == [["a1", "a2"], ["a3", "b1", "b2"]]


def test_a_lesson_at_the_very_edges_of_the_course_stays_put(db, creator, two_sections):
    structure.move_lesson(creator, two_sections.sections[0].lessons[0], "up")
    structure.move_lesson(creator, two_sections.sections[1].lessons[-1], "down")
    assert layout(reload(db, two_sections)) == [["a1", "a2", "a3"], ["b1", "b2"]]


def test_a_lesson_moves_past_an_empty_section_into_it(db, creator, course):
    a = structure.add_section(creator, course, title="A")
    structure.add_section(creator, course, title="Empty")
    only = structure.add_lesson(creator, a, title="only", kind="text")
    db.session.commit()
    structure.move_lesson(creator, only, "down")
    assert layout(reload(db, course)) == [[], ["only"]]


OPERATIONS = ("add_section", "add_lesson", "delete_section", "delete_lesson", "move_section",
              "move_lesson", "rename_section")


@pytest.mark.parametrize("seed", range(8))
def test_positions_stay_contiguous_after_any_sequence_of_edits(db, creator, course, seed):
    """Random edits, each checked against a plain-list model of the curriculum."""
    rng = random.Random(seed)
    model: list[list[str]] = []  # section -> lesson titles
    for counter in range(40):
        op = rng.choice(OPERATIONS)
        sections = list(course.sections)
        # Queried, so the sections' lesson collections stay unloaded as in a fresh request.
        lessons = list(db.session.scalars(
            sa.select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.id)))
        if op == "add_section" or not sections:
            structure.add_section(creator, course, title=f"s{counter}")
            model.append([])
        elif op == "add_lesson":
            i = rng.randrange(len(sections))
            structure.add_lesson(creator, sections[i], title=f"l{counter}", kind=rng.choice(
                ("video", "pdf", "text", "quiz")))
            model[i].append(f"l{counter}")
        elif op == "delete_section":
            i = rng.randrange(len(sections))
            structure.delete_section(creator, sections[i])
            del model[i]
        elif op == "rename_section":
            i = rng.randrange(len(sections))
            structure.rename_section(creator, sections[i], title=f"r{counter}")
        elif op == "move_section":
            i, direction = rng.randrange(len(sections)), rng.choice(("up", "down"))
            structure.move_section(creator, sections[i], direction)
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(model):
                model[i], model[j] = model[j], model[i]
        elif lessons and op == "delete_lesson":
            lesson = rng.choice(lessons)
            i = sections.index(lesson.section)
            structure.delete_lesson(creator, lesson)
            model[i].remove(lesson.title)
        elif lessons and op == "move_lesson":
            lesson, direction = rng.choice(lessons), rng.choice(("up", "down"))
            i = sections.index(lesson.section)
            k = model[i].index(lesson.title)
            structure.move_lesson(creator, lesson, direction)
            step = -1 if direction == "up" else 1
            if 0 <= k + step < len(model[i]):
                model[i][k], model[i][k + step] = model[i][k + step], model[i][k]
            elif 0 <= i + step < len(model):
                model[i].pop(k)
                if direction == "up":
                    model[i + step].append(lesson.title)
                else:
                    model[i + step].insert(0, lesson.title)
        assert_contiguous(course)
        assert layout(course) == model
        if rng.random() < 0.5:  # the next edit sometimes comes as a new request would see it
            course = reload(db, course)
    course = reload(db, course)
    assert_contiguous(course)
    assert layout(course) == model


# --- lesson details ---------------------------------------------------------------------------

@pytest.fixture
def text_lesson(db, creator, course):
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="Read", kind="text")
    db.session.commit()
    return lesson


def test_a_lesson_has_a_title_duration_preview_flag_and_body(db, creator, text_lesson):
    structure.update_lesson(creator, text_lesson, title=" Reading  time ", duration_minutes="12",
                            is_free_preview=True, body="  # Hello\n\nWorld  ")
    db.session.commit()
    stored = db.session.get(Lesson, text_lesson.id)
    assert (stored.title, stored.duration_seconds, stored.is_free_preview, stored.body) == \
        ("Reading time", 720, True, "# Hello\n\nWorld")


def test_leaving_fields_out_changes_nothing(db, creator, text_lesson):
    structure.update_lesson(creator, text_lesson, duration_minutes=5, body="Body")
    structure.update_lesson(creator, text_lesson, duration_minutes="")
    assert (text_lesson.duration_seconds, text_lesson.body, text_lesson.title) == (300, "Body", "Read")


@pytest.mark.parametrize("minutes", [0, "0", 1440, "1440"])
def test_durations_from_0_to_24_hours_are_fine(db, creator, text_lesson, minutes):
    structure.update_lesson(creator, text_lesson, duration_minutes=minutes)
    assert text_lesson.duration_seconds == int(minutes) * 60


@pytest.mark.parametrize("minutes", [-1, "-5", 1441, "1.5", "abc", "10 min", "1e3"])
def test_bad_durations_are_refused_and_nothing_is_saved(db, creator, text_lesson, minutes):
    with pytest.raises(Invalid) as exc:
        structure.update_lesson(creator, text_lesson, title="Changed", duration_minutes=minutes,
                                is_free_preview=True)
    assert exc.value.field == "duration_minutes"
    assert (text_lesson.title, text_lesson.duration_seconds, text_lesson.is_free_preview) == \
        ("Read", 0, False)


@pytest.mark.parametrize("kind", ["video", "pdf", "quiz"])
def test_only_text_lessons_have_a_body(db, creator, course, kind):
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="L", kind=kind)
    with pytest.raises(Invalid) as exc:
        structure.update_lesson(creator, lesson, title="Renamed", body="Words")
    assert exc.value.field == "body"
    assert (lesson.body, lesson.title) == ("", "L")


def test_an_overlong_body_is_refused(db, creator, text_lesson):
    with pytest.raises(Invalid, match="100,000"):
        structure.update_lesson(creator, text_lesson, body="x" * 100_001)
    assert text_lesson.body == ""


def test_video_and_pdf_lessons_take_a_file_of_their_kind(db, creator, course):
    section = structure.add_section(creator, course, title="S")
    clip = structure.add_lesson(creator, section, title="Clip", kind="video")
    notes = structure.add_lesson(creator, section, title="Notes", kind="pdf")
    structure.set_lesson_media(creator, clip, io.BytesIO(video()), "clip.webm")
    structure.set_lesson_media(creator, notes, io.BytesIO(pdf("T", ["x"])), "notes.pdf")
    db.session.commit()
    assert (clip.media.kind, clip.media.content_type) == ("video", "video/webm")
    assert (notes.media.kind, notes.media.content_type) == ("pdf", "application/pdf")
    assert clip.media.owner_id == creator.id and clip.media.original_name == "clip.webm"


def test_a_pdf_is_not_accepted_as_a_video(db, creator, course):
    section = structure.add_section(creator, course, title="S")
    clip = structure.add_lesson(creator, section, title="Clip", kind="video")
    with pytest.raises(Invalid):
        structure.set_lesson_media(creator, clip, io.BytesIO(pdf("T", ["x"])), "clip.mp4")
    assert clip.media is None


@pytest.mark.parametrize("kind", ["text", "quiz"])
def test_text_and_quiz_lessons_take_no_file(db, creator, course, kind):
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="L", kind=kind)
    with pytest.raises(Invalid) as exc:
        structure.set_lesson_media(creator, lesson, io.BytesIO(pdf("T", ["x"])), "x.pdf")
    assert exc.value.field == "file"


# --- who may, and when -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["other_creator", "admin", "anonymous"])
def test_nobody_else_can_change_the_curriculum(db, admin, make_user, two_sections, who):
    intruder = {"other_creator": make_user(), "admin": admin, "anonymous": None}[who]
    a = two_sections.sections[0]
    lesson = a.lessons[0]
    for attempt in (
        lambda: structure.add_section(intruder, two_sections, title="X"),
        lambda: structure.rename_section(intruder, a, title="X"),
        lambda: structure.move_section(intruder, a, "down"),
        lambda: structure.delete_section(intruder, a),
        lambda: structure.add_lesson(intruder, a, title="X", kind="text"),
        lambda: structure.update_lesson(intruder, lesson, title="X"),
        lambda: structure.set_lesson_media(intruder, lesson, io.BytesIO(b"x")),
        lambda: structure.move_lesson(intruder, lesson, "down"),
        lambda: structure.delete_lesson(intruder, lesson),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    assert layout(reload(db, two_sections)) == [["a1", "a2", "a3"], ["b1", "b2"]]


def test_the_curriculum_is_locked_while_under_review(db, creator, two_sections):
    two_sections.status = "under_review"
    a = two_sections.sections[0]
    lesson = a.lessons[0]
    for attempt in (
        lambda: structure.add_section(creator, two_sections, title="X"),
        lambda: structure.rename_section(creator, a, title="X"),
        lambda: structure.move_section(creator, a, "down"),
        lambda: structure.delete_section(creator, a),
        lambda: structure.add_lesson(creator, a, title="X", kind="text"),
        lambda: structure.update_lesson(creator, lesson, body="X"),
        lambda: structure.move_lesson(creator, lesson, "down"),
        lambda: structure.delete_lesson(creator, lesson),
    ):
        with pytest.raises(CourseLocked):
            attempt()


# --- events ----------------------------------------------------------------------------------

def test_a_lesson_added_to_a_published_course_is_announced_after_commit(db, creator, make_course,
                                                                       emitted):
    course = make_course(creator, status="published")
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="New", kind="text")
    assert [e.name for e in emitted] == []
    db.session.commit()
    added = [e for e in emitted if e.name == "catalog.course.lesson_added"]
    assert [e.payload for e in added] == [{"course_id": course.id, "lesson_id": lesson.id}]


def test_a_lesson_added_to_a_draft_is_not_announced(db, creator, course, emitted):
    section = structure.add_section(creator, course, title="S")
    structure.add_lesson(creator, section, title="New", kind="text")
    db.session.commit()
    assert [e.name for e in emitted if e.name.startswith("catalog.")] == []


def test_a_lesson_added_then_rolled_back_is_not_announced(db, creator, make_course, emitted):
    course = make_course(creator, status="published")
    section = structure.add_section(creator, course, title="S")
    structure.add_lesson(creator, section, title="New", kind="text")
    db.session.rollback()
    db.session.commit()
    assert emitted == []


def test_sections_and_lessons_are_tied_to_their_course(db, creator, two_sections):
    course = reload(db, two_sections)
    assert all(isinstance(s, Section) and s.course_id == course.id for s in course.sections)
    assert all(lesson.course_id == course.id for lesson in course.lessons)
