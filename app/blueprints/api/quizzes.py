"""Quiz attempts: submit answers to a quiz lesson (graded on the server by the player's
service, the right options and explanations only in the graded result), and my attempts. A
quiz is open to the enrolled only, as in the player (a 403 otherwise); another learner's
attempt is a 404."""
from __future__ import annotations

from flask import g
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Time
from app.catalog.models import Lesson, Quiz
from app.extensions import db
from app.learning import attempts, progress
from app.learning.models import QuizAttempt

TAG = "Learning"


class QuizAnswer(ApiModel):
    question_id: int = Field(ge=1, le=2**31 - 1)
    option_ids: list[int] = Field(max_length=50, description="One for single-choice, one or more for `multiple`")


class QuizAnswers(ApiModel):
    answers: list[QuizAnswer] = Field(max_length=200, description="One per question, every question answered")


class QuestionResultItem(ApiModel):
    question_id: int
    chosen_option_ids: list[int]
    correct_option_ids: list[int]
    is_correct: bool
    explanation: str


class QuizAttemptResult(ApiModel):
    id: int
    course_id: int
    lesson_id: int
    score_percent: int
    passed: bool
    correct_count: int
    question_count: int
    created_at: Time
    answers: list[QuizAnswer]
    results: list[QuestionResultItem] | None = Field(
        None, description="With the answer to a submission: the right options and explanations")


class QuizAttemptList(Page):
    items: list[QuizAttemptResult]


class AttemptQuery(CursorQuery):
    pass


@bp.post("/courses/<int:course_id>/lessons/<int:lesson_id>/attempts")
@operation(tags=[TAG], scope="learn", json=QuizAnswers, model=QuizAttemptResult, ok=201, not_found=True)
def attempt_create(course_id: int, lesson_id: int, json: QuizAnswers):
    """Submit a quiz

    Graded as in the player: every question answered; the result shows the right options
    and the explanations. Passing completes the lesson; retries are unlimited, the best
    score counts."""
    access = progress.access_lesson(g.api_grant.user, course_id, lesson_id)
    answers: dict[int, list[int]] = {}
    for answer in json.answers:
        answers.setdefault(answer.question_id, []).extend(answer.option_ids)
    attempt, grade = attempts.submit_quiz(g.api_grant.user, access.lesson, answers)
    db.session.commit()
    explanations = {question.id: question.explanation for question in access.lesson.quiz.questions}
    result = _attempt(attempt, access.lesson)
    result.results = [QuestionResultItem(
        question_id=item.question_id, chosen_option_ids=sorted(item.chosen), correct_option_ids=sorted(item.correct),
        is_correct=item.is_correct, explanation=explanations[item.question_id]) for item in grade.results]
    return result, 201


@bp.get("/courses/<int:course_id>/lessons/<int:lesson_id>/attempts")
@operation(tags=[TAG], scope="read", query=AttemptQuery, model=QuizAttemptList, not_found=True)
def attempt_list(course_id: int, lesson_id: int, query: AttemptQuery):
    """My attempts at a quiz

    The latest first; a 403 when not enrolled."""
    access = progress.access_lesson(g.api_grant.user, course_id, lesson_id)
    enrolled = progress.require_enrollment(g.api_grant.user, access.course)
    if access.lesson.quiz is None:
        return QuizAttemptList(items=[], next_cursor=None)
    position = decode_cursor(query.cursor, kind="quiz-attempts")
    rows = attempts.attempts_page(enrolled, access.lesson.quiz, before_id=position["id"] if position else None,
                                  limit=query.limit + 1)
    more = len(rows) > query.limit
    return QuizAttemptList(
        items=[_attempt(row, access.lesson) for row in rows[:query.limit]],
        next_cursor=encode_cursor({"kind": "quiz-attempts", "id": rows[query.limit - 1].id}) if more else None)


@bp.get("/quiz-attempts/<int:attempt_id>")
@operation(tags=[TAG], scope="read", model=QuizAttemptResult, not_found=True)
def attempt_detail(attempt_id: int):
    """One of my quiz attempts

    Its score and the answers given (the right options came with the submission's answer)."""
    attempt = attempts.access_attempt(g.api_grant.user, attempt_id)
    return _attempt(attempt, db.session.get(Quiz, attempt.quiz_id).lesson)


def _attempt(attempt: QuizAttempt, lesson: Lesson) -> QuizAttemptResult:
    return QuizAttemptResult(
        id=attempt.id, course_id=lesson.course_id, lesson_id=lesson.id, score_percent=attempt.score_percent,
        passed=attempt.passed, correct_count=attempt.correct_count, question_count=attempt.question_count,
        created_at=attempt.created_at,
        answers=[QuizAnswer(question_id=int(question_id), option_ids=list(option_ids))
                 for question_id, option_ids in sorted(attempt.answers.items(), key=lambda item: int(item[0]))])
