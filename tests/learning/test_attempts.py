"""Quiz attempts graded on the server (app/learning/attempts.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog import quizzes, structure
from app.errors import Invalid, NotFound
from app.learning import attempts
from app.learning.enrollment import revoke
from app.learning.errors import NotEnrolled
from app.learning.models import QuizAttempt
from app.learning.queries import completed_lesson_ids
from tests.support.learning import lessons_of, right_answers, wrong_answers

DB_EXAMPLES = settings(max_examples=40, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture,
                                              HealthCheck.too_slow])


def attempt_count(db, enrollment) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)
                             .where(QuizAttempt.enrollment_id == enrollment.id))


@st.composite
def quiz_specs(draw):
    """A pass mark and 1-6 questions: (kind, option count, correct indexes, chosen indexes)."""
    questions = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["single", "multiple", "true_false"]))
        size = 2 if kind == "true_false" else draw(st.integers(2, 6))
        index = st.integers(0, size - 1)
        if kind == "multiple":
            correct = frozenset(draw(st.sets(index, min_size=1)))
            chosen = draw(st.one_of(st.just(correct), st.frozensets(index, min_size=1)))
        else:
            correct = frozenset({draw(index)})
            chosen = frozenset({draw(st.one_of(st.just(min(correct)), index))})
        questions.append((kind, size, correct, chosen))
    return draw(st.integers(1, 100)), questions


def build_quiz(creator, section, pass_mark, questions):
    """A quiz lesson made through the studio services; returns it and each question's options."""
    lesson = structure.add_lesson(creator, section, title="Generated quiz", kind="quiz")
    quizzes.set_pass_mark(creator, lesson.quiz, pass_mark)
    built = []
    for n, (kind, size, correct, _) in enumerate(questions):
        question = quizzes.add_question(creator, lesson.quiz, prompt=f"Question {n}", kind=kind)
        if kind == "true_false":
            quizzes.set_correct(creator, question.options[min(correct)], True)
        else:
            for i in range(size):
                quizzes.add_option(creator, question, text=f"Option {i}", is_correct=i in correct)
        built.append(question)
    return lesson, built


@pytest.fixture
def quiz_lesson(course):
    return lessons_of(course)[-1]


# --- the grading properties ------------------------------------------------------------

@DB_EXAMPLES
@given(spec=quiz_specs())
def test_grading_matches_the_rules(db, creator, learner, course, enrolled, spec):
    pass_mark, questions = spec
    savepoint = db.session.begin_nested()
    try:
        lesson, built = build_quiz(creator, course.sections[0], pass_mark, questions)
        answers = {question.id: [question.options[i].id for i in chosen]
                   for question, (_, _, _, chosen) in zip(built, questions, strict=True)}
        attempt, grade = attempts.submit_quiz(learner, lesson, answers)

        right = sum(chosen == correct for _, _, correct, chosen in questions)
        expected = (100 * right) // len(questions)
        assert grade.score_percent == expected == attempt.score_percent
        assert grade.correct_count == right == attempt.correct_count
        assert attempt.question_count == len(questions)
        assert grade.passed is attempt.passed is (expected >= pass_mark)
        assert [r.is_correct for r in grade.results] == [
            chosen == correct for _, _, correct, chosen in questions]
        assert attempt.answers == {str(k): sorted(v) for k, v in answers.items()}
        assert (lesson.id in completed_lesson_ids(enrolled)) is grade.passed
    finally:
        savepoint.rollback()


@DB_EXAMPLES
@given(spec=quiz_specs(), data=st.data())
def test_forged_answers_are_refused_and_nothing_is_stored(db, creator, learner, course, enrolled,
                                                          quiz_lesson, spec, data):
    pass_mark, questions = spec
    savepoint = db.session.begin_nested()
    try:
        lesson, built = build_quiz(creator, course.sections[0], pass_mark, questions)
        answers = {question.id: [question.options[i].id for i in chosen]
                   for question, (_, _, _, chosen) in zip(built, questions, strict=True)}
        foreign = [o.id for q in quiz_lesson.quiz.questions for o in q.options]
        singles = [q for q in built if q.kind != "multiple"]
        forgeries = ["missing", "unknown question", "foreign option", "empty"]
        if len(built) > 1:
            forgeries.append("other question's option")
        if singles:
            forgeries.append("two answers to a single choice")
        forgery = data.draw(st.sampled_from(forgeries))
        target = data.draw(st.sampled_from(built))
        if forgery == "missing":
            del answers[target.id]
        elif forgery == "unknown question":
            answers[max(q.id for q in built) + 1000] = [target.options[0].id]
        elif forgery == "foreign option":
            answers[target.id] = [data.draw(st.sampled_from(foreign))]
        elif forgery == "empty":
            answers[target.id] = []
        elif forgery == "other question's option":
            other = data.draw(st.sampled_from([q for q in built if q.id != target.id]))
            answers[target.id] = [other.options[0].id]
        else:
            single = data.draw(st.sampled_from(singles))
            answers[single.id] = [single.options[0].id, single.options[1].id]
        before = attempt_count(db, enrolled)
        with pytest.raises(Invalid):
            attempts.submit_quiz(learner, lesson, answers)
        assert attempt_count(db, enrolled) == before
        assert lesson.id not in completed_lesson_ids(enrolled)
    finally:
        savepoint.rollback()


# --- examples --------------------------------------------------------------------------

def test_the_right_answers_pass(db, learner, quiz_lesson, enrolled):
    attempt, grade = attempts.submit_quiz(learner, quiz_lesson, right_answers(quiz_lesson))
    assert grade.score_percent == 100 and grade.passed and attempt.passed


def test_the_wrong_answers_fail_and_are_kept(db, learner, quiz_lesson, enrolled):
    _attempt, grade = attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson))
    assert grade.score_percent == 0 and not grade.passed
    assert attempt_count(db, enrolled) == 1


def test_a_multiple_choice_question_needs_exactly_the_correct_set(db, creator, quiz_lesson):
    quiz = quiz_lesson.quiz
    question = quizzes.add_question(creator, quiz, prompt="Pick the primes", kind="multiple")
    two, three, four = (quizzes.add_option(creator, question, text=str(n), is_correct=n != 4)
                        for n in (2, 3, 4))
    base = right_answers(quiz_lesson)
    base.pop(question.id)
    for chosen, counts in (([two.id, three.id], True), ([two.id], False),
                           ([two.id, three.id, four.id], False), ([four.id], False)):
        grade = attempts.grade(quiz, {**base, question.id: chosen})
        assert grade.results[-1].is_correct is counts


def test_the_score_is_rounded_down(db, creator, quiz_lesson):
    quiz = quiz_lesson.quiz
    for n in range(2):
        question = quizzes.add_question(creator, quiz, prompt=f"Extra {n}", kind="true_false")
        quizzes.set_correct(creator, question.options[0], True)
    answers = right_answers(quiz_lesson)
    answers[quiz.questions[-1].id] = [quiz.questions[-1].options[1].id]
    grade = attempts.grade(quiz, answers)
    assert grade.score_percent == 66 and not grade.passed  # 2 of 3, pass mark 70


def test_the_pass_mark_is_inclusive(db, creator, quiz_lesson):
    quizzes.set_pass_mark(creator, quiz_lesson.quiz, 100)
    assert attempts.grade(quiz_lesson.quiz, right_answers(quiz_lesson)).passed


def test_a_quiz_without_questions_cannot_be_graded(db, creator, course, learner, enrolled):
    lesson = structure.add_lesson(creator, course.sections[0], title="Empty", kind="quiz")
    with pytest.raises(Invalid):
        attempts.submit_quiz(learner, lesson, {})
    assert attempt_count(db, enrolled) == 0


def test_only_quiz_lessons_take_answers(db, learner, course, enrolled):
    with pytest.raises(Invalid):
        attempts.submit_quiz(learner, lessons_of(course)[0], {})


def test_only_enrolled_learners_submit(db, make_user, quiz_lesson):
    with pytest.raises(NotEnrolled):
        attempts.submit_quiz(make_user(password=None), quiz_lesson, right_answers(quiz_lesson))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 0


def test_retries_are_unlimited_and_the_best_score_is_kept(db, learner, quiz_lesson, enrolled):
    assert attempts.best_score(enrolled, quiz_lesson.quiz) is None
    for _ in range(12):
        attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson))
    assert attempts.best_score(enrolled, quiz_lesson.quiz) == 0
    attempts.submit_quiz(learner, quiz_lesson, right_answers(quiz_lesson))
    attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson))
    assert attempt_count(db, enrolled) == 14
    assert attempts.best_score(enrolled, quiz_lesson.quiz) == 100
    assert attempts.best_score(None, quiz_lesson.quiz) is None


@DB_EXAMPLES
@given(results=st.lists(st.booleans(), min_size=1, max_size=8))
def test_the_best_score_is_the_highest_attempt(db, creator, learner, course, enrolled, results):
    savepoint = db.session.begin_nested()
    try:
        lesson, built = build_quiz(creator, course.sections[0], 50, [
            ("true_false", 2, frozenset({0}), None), ("true_false", 2, frozenset({0}), None)])
        scores = []
        for first_right in results:
            answers = {built[0].id: [built[0].options[0 if first_right else 1].id],
                       built[1].id: [built[1].options[1].id]}
            scores.append(attempts.submit_quiz(learner, lesson, answers)[1].score_percent)
        assert attempts.best_score(enrolled, lesson.quiz) == max(scores)
    finally:
        savepoint.rollback()


# --- reading answers from a form -------------------------------------------------------

def test_form_answers_are_parsed_into_ids():
    form = {"q-12": ["40", "41"], "q-13": ["7"], "csrf_token": ["x"]}
    assert attempts.parse_answers(form) == {12: [40, 41], 13: [7]}


@pytest.mark.parametrize("form", [{"q-x": ["1"]}, {"q-1": ["one"]}, {"q-": ["1"]}])
def test_garbled_form_answers_are_refused(form):
    with pytest.raises(Invalid):
        attempts.parse_answers(form)


# --- my attempts ---------------------------------------------------------------------------

def test_a_learner_loads_only_their_own_attempts(db, learner, make_user, course, enrolled):
    quiz = lessons_of(course)[-1]
    attempt, _ = attempts.submit_quiz(learner, quiz, wrong_answers(quiz))
    again, _ = attempts.submit_quiz(learner, quiz, right_answers(quiz))
    db.session.commit()
    assert attempts.access_attempt(learner, attempt.id).id == attempt.id
    assert [row.id for row in attempts.attempts_page(enrolled, quiz.quiz)] == [again.id, attempt.id]
    assert [row.id for row in attempts.attempts_page(enrolled, quiz.quiz, before_id=again.id)] == [attempt.id]
    with pytest.raises(NotFound):
        attempts.access_attempt(make_user(password=None), attempt.id)
    revoke(enrolled, reason="refunded")
    with pytest.raises(NotFound):
        attempts.access_attempt(learner, attempt.id)
