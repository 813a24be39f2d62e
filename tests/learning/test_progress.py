"""Progress, completion and the player's position (app/learning/progress.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog import structure
from app.errors import Invalid, NotAllowed
from app.learning import attempts, progress
from app.learning.enrollment import enroll, revoke
from app.learning.errors import NotEnrolled
from app.learning.models import Certificate, LessonProgress
from app.learning.queries import completed_lesson_ids
from tests.support.learning import (
    add_lesson,
    course_with_kinds,
    finish_course,
    lessons_of,
    named,
    right_answers,
    wrong_answers,
)
from tests.support.rows import notifications

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def completions(emitted) -> list[dict]:
    return named(emitted, "learning.course.completed")


# --- progress maths --------------------------------------------------------------------

def test_a_new_enrollment_has_no_progress(db, enrolled):
    assert progress.progress_percent(enrolled) == 0
    assert completed_lesson_ids(enrolled) == set()


def test_progress_is_completed_over_total_rounded_down(db, creator, admin, learner):
    course = course_with_kinds(creator, admin, kinds=("text", "text", "text"))
    row = enroll(learner, course)
    first, second, third = lessons_of(course)
    progress.complete_lesson(learner, first)
    assert progress.progress_percent(row) == 33
    progress.complete_lesson(learner, second)
    assert progress.progress_percent(row) == 66  # 66.7 is not rounded up
    progress.complete_lesson(learner, third)
    assert progress.progress_percent(row) == 100


def test_completing_a_lesson_twice_counts_it_once(db, learner, course, enrolled):
    first = lessons_of(course)[0]
    progress.complete_lesson(learner, first, now=T0)
    progress.complete_lesson(learner, first, now=T0 + timedelta(hours=1))
    assert progress.progress_percent(enrolled) == 25
    row = db.session.scalar(sa.select(LessonProgress).where(
        LessonProgress.enrollment_id == enrolled.id, LessonProgress.lesson_id == first.id))
    assert row.completed_at == T0


def test_completing_needs_an_active_enrollment(db, admin, learner, course, enrolled):
    revoke(enrolled, reason="refunded", actor=admin)
    with pytest.raises(NotEnrolled):
        progress.complete_lesson(learner, lessons_of(course)[0])
    assert completed_lesson_ids(enrolled) == set()


def test_a_stranger_cannot_complete_lessons(db, make_user, course):
    with pytest.raises(NotEnrolled):
        progress.complete_lesson(make_user(password=None), lessons_of(course)[0])


# --- quizzes and completion ------------------------------------------------------------

def test_a_quiz_lesson_cannot_be_ticked_without_a_passing_attempt(db, learner, course, enrolled):
    quiz = lessons_of(course)[-1]
    with pytest.raises(Invalid):
        progress.complete_lesson(learner, quiz)
    attempts.submit_quiz(learner, quiz, wrong_answers(quiz))
    with pytest.raises(Invalid):
        progress.complete_lesson(learner, quiz)
    assert quiz.id not in completed_lesson_ids(enrolled)


def test_passing_the_quiz_ticks_its_lesson(db, learner, course, enrolled):
    quiz = lessons_of(course)[-1]
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    assert quiz.id in completed_lesson_ids(enrolled)
    progress.complete_lesson(learner, quiz)  # allowed now, and changes nothing
    assert progress.progress_percent(enrolled) == 25


def test_the_course_is_not_complete_while_the_quiz_is_not_passed(db, learner, course, enrolled,
                                                                 emitted):
    *others, quiz = lessons_of(course)
    for lesson in others:
        progress.complete_lesson(learner, lesson)
    attempts.submit_quiz(learner, quiz, wrong_answers(quiz))
    db.session.commit()
    assert enrolled.completed_at is None
    assert progress.progress_percent(enrolled) == 75
    assert completions(emitted) == []


def test_the_course_completes_when_every_lesson_is_done(db, learner, course, enrolled, emitted):
    *others, quiz = lessons_of(course)
    for lesson in others:
        progress.complete_lesson(learner, lesson, now=T0)
    attempts.submit_quiz(learner, quiz, right_answers(quiz), now=T0 + timedelta(minutes=5))
    assert completions(emitted) == []  # not before the commit
    db.session.commit()
    assert enrolled.completed_at == T0 + timedelta(minutes=5)
    assert progress.progress_percent(enrolled) == 100
    assert completions(emitted) == [{"enrollment_id": enrolled.id}]


def test_completion_fires_exactly_once(db, learner, course, enrolled, emitted):
    finish_course(learner, course)
    *others, quiz = lessons_of(course)
    progress.complete_lesson(learner, others[-1])  # the last lesson again
    db.session.commit()
    attempts.submit_quiz(learner, quiz, right_answers(quiz))  # a passing quiz again
    db.session.commit()
    for lesson in others:
        progress.complete_lesson(learner, lesson)
    db.session.commit()
    assert completions(emitted) == [{"enrollment_id": enrolled.id}]


def test_completion_in_one_transaction_fires_once(db, learner, course, enrolled, emitted):
    *others, quiz = lessons_of(course)
    for lesson in others:
        progress.complete_lesson(learner, lesson)
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    progress.complete_lesson(learner, others[0])
    db.session.commit()
    assert len(completions(emitted)) == 1


def test_lessons_added_after_completion_do_not_uncomplete(db, creator, learner, course, enrolled,
                                                          emitted):
    finish_course(learner, course)
    completed_at = enrolled.completed_at
    new = add_lesson(creator, course.sections[0], "text", title="Bonus")
    db.session.commit()
    assert enrolled.completed_at == completed_at
    assert progress.progress_percent(enrolled) == 100
    progress.complete_lesson(learner, new)
    db.session.commit()
    assert enrolled.completed_at == completed_at
    assert len(completions(emitted)) == 1


def test_a_lesson_added_before_completion_must_be_done_too(db, creator, learner, course, enrolled):
    *others, quiz = lessons_of(course)
    for lesson in others:
        progress.complete_lesson(learner, lesson)
    bonus = add_lesson(creator, course.sections[0], "text", title="Bonus")
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    assert enrolled.completed_at is None
    progress.complete_lesson(learner, bonus)
    assert enrolled.completed_at is not None


def test_completion_issues_one_certificate_and_tells_the_learner(db, learner, course, enrolled):
    finish_course(learner, course)
    quiz = lessons_of(course)[-1]
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    db.session.commit()
    certificates = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.enrollment_id == enrolled.id)))
    assert len(certificates) == 1
    [note] = notifications(learner, "learning.course_completed")
    assert note.data["certificate"] == certificates[0].code
    assert note.data["course_id"] == course.id


def test_a_rolled_back_completion_issues_nothing(db, learner, course, enrolled, emitted):
    *others, quiz = lessons_of(course)
    for lesson in others:
        progress.complete_lesson(learner, lesson)
    attempts.submit_quiz(learner, quiz, right_answers(quiz))
    db.session.rollback()
    assert completions(emitted) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


# --- the video position ----------------------------------------------------------------

def test_the_video_position_is_saved_and_restored(db, learner, course, enrolled):
    video = lessons_of(course)[0]
    assert progress.saved_position(enrolled, video) == 0
    progress.save_position(learner, video, "42.7", now=T0)
    db.session.commit()
    assert progress.saved_position(enrolled, video) == 42
    assert enrolled.last_lesson_id == video.id and enrolled.last_activity_at == T0
    progress.save_position(learner, video, 90)
    assert progress.saved_position(enrolled, video) == 90


@pytest.mark.parametrize("seconds", [-1, "-5", 24 * 3600 + 1, 10 ** 30, "1e400", float("inf"),
                                     "abc", "", None, "nan", [3]])
def test_a_nonsense_position_is_refused(db, learner, course, enrolled, seconds):
    video = lessons_of(course)[0]
    progress.save_position(learner, video, 30)
    with pytest.raises(Invalid):
        progress.save_position(learner, video, seconds)
    assert progress.saved_position(enrolled, video) == 30


def test_only_video_lessons_have_a_position(db, learner, course, enrolled):
    for lesson in lessons_of(course)[1:]:
        with pytest.raises(Invalid):
            progress.save_position(learner, lesson, 10)
        assert progress.saved_position(enrolled, lesson) == 0


def test_a_position_needs_an_enrollment(db, make_user, course):
    with pytest.raises(NotEnrolled):
        progress.save_position(make_user(password=None), lessons_of(course)[0], 10)


def test_a_saved_position_does_not_tick_the_lesson(db, learner, course, enrolled):
    video = lessons_of(course)[0]
    progress.save_position(learner, video, 10)
    db.session.flush()
    assert completed_lesson_ids(enrolled) == set()


# --- continue where I left off ---------------------------------------------------------

def test_continue_starts_at_the_first_lesson(db, course, enrolled):
    assert progress.next_lesson(enrolled).id == lessons_of(course)[0].id


def test_continue_goes_to_the_last_opened_unfinished_lesson(db, learner, course, enrolled):
    video, _pdf_lesson, text, _quiz = lessons_of(course)
    progress.touch(enrolled, text, T0)
    assert progress.next_lesson(enrolled).id == text.id
    progress.save_position(learner, video, 12)  # opening the video makes it the last one
    assert progress.next_lesson(enrolled).id == video.id


def test_continue_skips_a_finished_last_lesson_to_the_first_not_done(db, learner, course,
                                                                     enrolled):
    video, pdf_lesson, text, quiz = lessons_of(course)
    progress.complete_lesson(learner, video)
    progress.complete_lesson(learner, text)  # the last one opened, and done
    assert progress.next_lesson(enrolled).id == pdf_lesson.id
    progress.complete_lesson(learner, pdf_lesson)
    assert progress.next_lesson(enrolled).id == quiz.id


def test_continue_on_a_finished_course_goes_back_to_the_start(db, learner, course, enrolled):
    finish_course(learner, course)
    assert progress.next_lesson(enrolled).id == lessons_of(course)[0].id


def test_continue_ignores_a_last_lesson_that_was_deleted(db, creator, learner, course, enrolled):
    *_, text, _quiz = lessons_of(course)
    progress.touch(enrolled, text, T0)
    db.session.commit()
    structure.delete_lesson(creator, text)
    db.session.commit()
    db.session.expire_all()
    assert progress.next_lesson(enrolled).id == lessons_of(course)[0].id


def test_neighbours_follow_the_course_order(db, course):
    video, pdf_lesson, text, quiz = lessons_of(course)
    assert progress.neighbours(video) == (None, pdf_lesson)
    assert progress.neighbours(text) == (pdf_lesson, quiz)
    assert progress.neighbours(quiz) == (text, None)


def test_access_lesson_refuses_a_stranger_on_a_paid_lesson(db, make_user, course):
    with pytest.raises(NotAllowed):
        progress.access_lesson(make_user(password=None), course.id, lessons_of(course)[1].id)


def test_the_course_progress_figures(db, learner, course, enrolled):
    video, pdf = lessons_of(course)[:2]
    progress.complete_lesson(learner, pdf)
    progress.save_position(learner, video, 12)
    figures = progress.course_progress(enrolled)
    assert [lesson.id for lesson in figures.lessons] == [lesson.id for lesson in lessons_of(course)]
    assert figures.done == {pdf.id} and figures.positions[video.id] == 12
    assert figures.percent == 25 and figures.next_lesson.id == video.id
