"""Quiz authoring (app/catalog/quizzes.py)."""
from __future__ import annotations

import pytest

from app.catalog import quizzes, structure
from app.catalog.errors import CourseLocked
from app.catalog.models import QuizQuestion
from app.errors import Invalid, NotAllowed


@pytest.fixture
def quiz(db, creator, make_course):
    course = make_course(creator)
    section = structure.add_section(creator, course, title="S")
    lesson = structure.add_lesson(creator, section, title="Check", kind="quiz")
    db.session.commit()
    return lesson.quiz


def correct(question: QuizQuestion) -> list[str]:
    return [option.text for option in question.options if option.is_correct]


def test_questions_are_added_in_order_with_their_explanation(db, creator, quiz):
    first = quizzes.add_question(creator, quiz, prompt="  What is SQL? ", explanation=" A language ")
    second = quizzes.add_question(creator, quiz, prompt="Why?", kind="multiple")
    db.session.commit()
    assert [(q.prompt, q.kind, q.position) for q in quiz.questions] == \
        [("What is SQL?", "single", 0), ("Why?", "multiple", 1)]
    assert first.explanation == "A language" and second.explanation == ""


@pytest.mark.parametrize("prompt", ["", "   ", "p" * 2001])
def test_a_question_needs_a_prompt_of_sensible_length(db, creator, quiz, prompt):
    with pytest.raises(Invalid) as exc:
        quizzes.add_question(creator, quiz, prompt=prompt)
    assert exc.value.field == "prompt"
    assert quiz.questions == []


def test_an_overlong_explanation_is_refused(db, creator, quiz):
    with pytest.raises(Invalid) as exc:
        quizzes.add_question(creator, quiz, prompt="Q", explanation="e" * 5001)
    assert exc.value.field == "explanation"


@pytest.mark.parametrize("kind", ["", "essay", "TRUE_FALSE"])
def test_unknown_question_kinds_are_refused(db, creator, quiz, kind):
    with pytest.raises(Invalid):
        quizzes.add_question(creator, quiz, prompt="Q", kind=kind)


def test_a_question_can_be_reworded(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Old", explanation="Old why")
    quizzes.update_question(creator, question, prompt="New", explanation="New why")
    assert (question.prompt, question.explanation) == ("New", "New why")
    with pytest.raises(Invalid):
        quizzes.update_question(creator, question, prompt=" ")
    with pytest.raises(Invalid):
        quizzes.update_question(creator, question, prompt="Newer", explanation="e" * 5001)
    assert (question.prompt, question.explanation) == ("New", "New why")


def test_deleting_a_question_renumbers_the_rest(db, creator, quiz):
    questions = [quizzes.add_question(creator, quiz, prompt=p) for p in ("one", "two", "three")]
    quizzes.delete_question(creator, questions[1])
    db.session.commit()
    assert [(q.prompt, q.position) for q in quiz.questions] == [("one", 0), ("three", 1)]


# --- true / false ------------------------------------------------------------------------

def test_a_true_false_question_comes_with_its_two_answers(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Is it?", kind="true_false")
    assert [(o.text, o.position, o.is_correct) for o in question.options] == \
        [("True", 0, False), ("False", 1, False)]


def test_a_true_false_question_takes_no_more_answers_and_keeps_both(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Is it?", kind="true_false")
    with pytest.raises(Invalid):
        quizzes.add_option(creator, question, text="Maybe")
    with pytest.raises(Invalid):
        quizzes.delete_option(creator, question.options[0])
    db.session.commit()
    assert [o.text for o in question.options] == ["True", "False"]


def test_a_true_false_question_has_one_correct_answer(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Is it?", kind="true_false")
    quizzes.set_correct(creator, question.options[0], True)
    quizzes.set_correct(creator, question.options[1], True)
    assert correct(question) == ["False"]


# --- single and multiple choice ---------------------------------------------------------

def test_single_choice_keeps_exactly_one_correct_answer(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Pick one")
    a = quizzes.add_option(creator, question, text="A", is_correct=True)
    b = quizzes.add_option(creator, question, text="B", is_correct=True)
    assert correct(question) == ["B"]
    quizzes.set_correct(creator, a, True)
    assert correct(question) == ["A"]
    quizzes.set_correct(creator, b, False)
    assert correct(question) == ["A"]
    db.session.commit()
    assert correct(db.session.get(QuizQuestion, question.id)) == ["A"]


def test_multiple_choice_allows_several_correct_answers(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Pick some", kind="multiple")
    quizzes.add_option(creator, question, text="A", is_correct=True)
    quizzes.add_option(creator, question, text="B")
    c = quizzes.add_option(creator, question, text="C", is_correct=True)
    assert correct(question) == ["A", "C"]
    quizzes.set_correct(creator, c, False)
    assert correct(question) == ["A"]


def test_answers_are_trimmed_and_must_not_be_empty_or_overlong(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Q")
    assert quizzes.add_option(creator, question, text="  two   words ").text == "two words"
    for text in ("", "   ", "a" * 501):
        with pytest.raises(Invalid) as exc:
            quizzes.add_option(creator, question, text=text)
        assert exc.value.field == "text"
    assert len(question.options) == 1


def test_a_question_has_at_most_ten_answers(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Q", kind="multiple")
    for n in range(10):
        quizzes.add_option(creator, question, text=f"Answer {n}")
    with pytest.raises(Invalid, match="at most 10"):
        quizzes.add_option(creator, question, text="One too many")
    assert len(question.options) == 10


def test_deleting_an_answer_renumbers_the_rest(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Q")
    options = [quizzes.add_option(creator, question, text=t) for t in ("A", "B", "C")]
    quizzes.delete_option(creator, options[0])
    db.session.commit()
    assert [(o.text, o.position) for o in question.options] == [("B", 0), ("C", 1)]


# --- pass mark ---------------------------------------------------------------------------

@pytest.mark.parametrize("percent, stored", [(1, 1), ("50", 50), (100, 100), (" 80 ", 80)])
def test_the_pass_mark_is_a_whole_percentage(db, creator, quiz, percent, stored):
    quizzes.set_pass_mark(creator, quiz, percent)
    assert quiz.pass_mark_percent == stored


@pytest.mark.parametrize("percent", [0, -5, 101, "abc", "", None, "50.5"])
def test_pass_marks_outside_1_to_100_are_refused(db, creator, quiz, percent):
    with pytest.raises(Invalid) as exc:
        quizzes.set_pass_mark(creator, quiz, percent)
    assert exc.value.field == "pass_mark_percent"
    assert quiz.pass_mark_percent == 70


# --- who may, and when -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["other_creator", "admin", "anonymous"])
def test_only_the_creator_authors_the_quiz(db, creator, admin, make_user, quiz, who):
    intruder = {"other_creator": make_user(), "admin": admin, "anonymous": None}[who]
    question = quizzes.add_question(creator, quiz, prompt="Q")
    option = quizzes.add_option(creator, question, text="A")
    for attempt in (
        lambda: quizzes.set_pass_mark(intruder, quiz, 50),
        lambda: quizzes.add_question(intruder, quiz, prompt="X"),
        lambda: quizzes.update_question(intruder, question, prompt="X"),
        lambda: quizzes.delete_question(intruder, question),
        lambda: quizzes.add_option(intruder, question, text="X"),
        lambda: quizzes.set_correct(intruder, option, True),
        lambda: quizzes.delete_option(intruder, option),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    assert (quiz.pass_mark_percent, question.prompt, option.is_correct) == (70, "Q", False)
    assert [o.text for o in question.options] == ["A"] and len(quiz.questions) == 1


def test_the_quiz_is_locked_while_the_course_is_under_review(db, creator, quiz):
    question = quizzes.add_question(creator, quiz, prompt="Q")
    option = quizzes.add_option(creator, question, text="A")
    quiz.lesson.section.course.status = "under_review"
    for attempt in (
        lambda: quizzes.set_pass_mark(creator, quiz, 50),
        lambda: quizzes.add_question(creator, quiz, prompt="X"),
        lambda: quizzes.update_question(creator, question, prompt="X"),
        lambda: quizzes.delete_question(creator, question),
        lambda: quizzes.add_option(creator, question, text="X"),
        lambda: quizzes.set_correct(creator, option, True),
        lambda: quizzes.delete_option(creator, option),
    ):
        with pytest.raises(CourseLocked):
            attempt()
