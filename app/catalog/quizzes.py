"""Quiz authoring: questions (single, multiple, true/false), options and explanations."""
from __future__ import annotations

from app.accounts.models import User
from app.catalog.courses import lock_outline
from app.catalog.editing import ensure_editable
from app.catalog.models import QUESTION_KINDS, Quiz, QuizOption, QuizQuestion
from app.catalog.permissions import can_edit_course
from app.errors import Conflict, Invalid
from app.extensions import db
from app.policy import require

PROMPT_MAX, OPTION_MAX, EXPLANATION_MAX = 2000, 500, 5000


def _fresh(actor: User, model, row_id: int, course_id: int):
    """The quiz, question or option as the last change left it, after taking the course's
    outline lock (two tabs at once run one after the other); None when it was deleted meanwhile."""
    course = lock_outline(course_id)
    require(can_edit_course(actor, course), "edit this course")
    return db.session.get(model, row_id)


def _check(actor: User, quiz: Quiz) -> None:
    course = quiz.lesson.section.course
    require(can_edit_course(actor, course), "edit this course")
    ensure_editable(course)


def set_pass_mark(actor: User, quiz: Quiz, percent) -> Quiz:
    _check(actor, quiz)
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        raise Invalid("Enter the pass mark as a whole percentage.", field="pass_mark_percent") from None
    if not 1 <= percent <= 100:
        raise Invalid("The pass mark is between 1% and 100%.", field="pass_mark_percent")
    quiz.pass_mark_percent = percent
    return quiz


def _clean_prompt(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise Invalid("Write the question.", field="prompt")
    if len(prompt) > PROMPT_MAX:
        raise Invalid(f"Keep the question under {PROMPT_MAX:,} characters.", field="prompt")
    return prompt


def add_question(actor: User, quiz: Quiz, *, prompt: str, kind: str = "single",
                 explanation: str = "") -> QuizQuestion:
    quiz = _fresh(actor, Quiz, quiz.id, quiz.lesson.course_id)
    if quiz is None:
        raise Conflict("This quiz was deleted meanwhile (in another tab?). Reload the page.")
    _check(actor, quiz)
    if kind not in QUESTION_KINDS:
        raise Invalid("Choose single choice, multiple choice or true/false.", field="kind")
    question = QuizQuestion(prompt=_clean_prompt(prompt), kind=kind,
                            explanation=_clean_explanation(explanation),
                            position=len(quiz.questions))
    if kind == "true_false":
        question.options = [QuizOption(text="True", position=0), QuizOption(text="False", position=1)]
    quiz.questions.append(question)
    db.session.flush()
    return question


def _clean_explanation(explanation: str) -> str:
    explanation = (explanation or "").strip()
    if len(explanation) > EXPLANATION_MAX:
        raise Invalid(f"Keep the explanation under {EXPLANATION_MAX:,} characters.",
                      field="explanation")
    return explanation


def update_question(actor: User, question: QuizQuestion, *, prompt: str,
                    explanation: str = "") -> QuizQuestion:
    _check(actor, question.quiz)
    prompt, explanation = _clean_prompt(prompt), _clean_explanation(explanation)
    question.prompt, question.explanation = prompt, explanation
    return question


def delete_question(actor: User, question: QuizQuestion) -> None:
    question = _fresh(actor, QuizQuestion, question.id, question.quiz.lesson.course_id)
    if question is None:
        return  # deleted meanwhile: what was asked is done
    quiz = question.quiz
    _check(actor, quiz)
    quiz.questions.remove(question)
    for position, item in enumerate(quiz.questions):
        item.position = position
    db.session.flush()


def add_option(actor: User, question: QuizQuestion, *, text: str,
               is_correct: bool = False) -> QuizOption:
    question = _fresh(actor, QuizQuestion, question.id, question.quiz.lesson.course_id)
    if question is None:
        raise Conflict("This question was deleted meanwhile (in another tab?). Reload the page.")
    _check(actor, question.quiz)
    if question.kind == "true_false":
        raise Invalid("True/false questions have exactly two answers.", field="text")
    text = " ".join((text or "").split())
    if not text:
        raise Invalid("Write the answer.", field="text")
    if len(text) > OPTION_MAX:
        raise Invalid(f"Keep answers under {OPTION_MAX} characters.", field="text")
    if len(question.options) >= 10:
        raise Invalid("A question has at most 10 answers.", field="text")
    option = QuizOption(text=text, position=len(question.options))
    question.options.append(option)
    if is_correct:
        _mark(question, option, True)
    db.session.flush()
    return option


def set_correct(actor: User, option: QuizOption, correct: bool) -> QuizOption:
    _check(actor, option.question.quiz)
    _mark(option.question, option, correct)
    return option


def _mark(question: QuizQuestion, option: QuizOption, correct: bool) -> None:
    """Single-answer kinds keep exactly one correct option."""
    if correct and question.kind in ("single", "true_false"):
        for other in question.options:
            other.is_correct = False
    option.is_correct = bool(correct)


def delete_option(actor: User, option: QuizOption) -> None:
    option = _fresh(actor, QuizOption, option.id, option.question.quiz.lesson.course_id)
    if option is None:
        return  # deleted meanwhile: what was asked is done
    question = option.question
    _check(actor, question.quiz)
    if question.kind == "true_false":
        raise Invalid("True/false questions keep both answers.")
    question.options.remove(option)
    for position, item in enumerate(question.options):
        item.position = position
    db.session.flush()
