"""Taking quizzes: answers graded on the server, best score kept, unlimited retries.
Correct answers and explanations leave the server only in the graded result."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Lesson, Quiz
from app.dbtypes import utcnow
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning.events import QuizAttempted
from app.learning.models import Enrollment, QuizAttempt
from app.learning.progress import mark_done, require_enrollment


@dataclass(frozen=True)
class QuestionResult:
    question_id: int
    chosen: frozenset[int]
    correct: frozenset[int]

    @property
    def is_correct(self) -> bool:
        return self.chosen == self.correct


@dataclass(frozen=True)
class Grade:
    results: list[QuestionResult]
    score_percent: int
    passed: bool

    @property
    def correct_count(self) -> int:
        return sum(result.is_correct for result in self.results)


def parse_answers(form: dict[str, list[str]]) -> dict[int, list[int]]:
    """`{"q-12": ["40", "41"]}` from a form into `{12: [40, 41]}`; anything else is refused."""
    answers: dict[int, list[int]] = {}
    for name, values in form.items():
        if not name.startswith("q-"):
            continue
        try:
            answers[int(name[2:])] = [int(v) for v in values]
        except ValueError:
            raise Invalid("The answers were not understood; reload the quiz and try again.") from None
    return answers


def grade(quiz: Quiz, answers: dict[int, list[int]]) -> Grade:
    """Score `answers` against `quiz`. Every question must be answered with its own options;
    a question counts only when exactly the correct options are chosen."""
    questions = {question.id: question for question in quiz.questions}
    if not questions:
        raise Invalid("This quiz has no questions yet.")
    unknown = set(answers) - set(questions)
    if unknown:
        raise Invalid("Some answers belong to another quiz; reload the quiz and try again.")
    results = []
    for question in quiz.questions:
        chosen = frozenset(answers.get(question.id, []))
        if not chosen:
            raise Invalid("Answer every question before you submit.")
        options = {option.id for option in question.options}
        if not chosen <= options:
            raise Invalid("Some answers belong to another question; reload the quiz and try again.")
        if question.kind != "multiple" and len(chosen) != 1:
            raise Invalid("Choose one answer for each single-choice question.")
        correct = frozenset(option.id for option in question.options if option.is_correct)
        results.append(QuestionResult(question.id, chosen, correct))
    score = (sum(result.is_correct for result in results) * 100) // len(results)
    return Grade(results, score, score >= quiz.pass_mark_percent)


def submit_quiz(actor, lesson: Lesson, answers: dict[int, list[int]], *,
                now: datetime | None = None) -> tuple[QuizAttempt, Grade]:
    if lesson.kind != "quiz" or lesson.quiz is None:
        raise Invalid("This lesson is not a quiz.")
    enrollment = require_enrollment(actor, lesson.section.course)
    result = grade(lesson.quiz, answers)
    now = now or utcnow()
    attempt = QuizAttempt(enrollment_id=enrollment.id, quiz_id=lesson.quiz.id,
                          answers={str(r.question_id): sorted(r.chosen) for r in result.results},
                          correct_count=result.correct_count, question_count=len(result.results),
                          score_percent=result.score_percent, passed=result.passed, created_at=now)
    db.session.add(attempt)
    db.session.flush()
    emit(QuizAttempted(attempt_id=attempt.id))
    if result.passed:
        mark_done(enrollment, lesson, now)
    return attempt, result


def best_score(enrollment, quiz: Quiz) -> int | None:
    if enrollment is None:
        return None
    return db.session.scalar(sa.select(sa.func.max(QuizAttempt.score_percent)).where(
        QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.quiz_id == quiz.id))


def access_attempt(actor, attempt_id: int) -> QuizAttempt:
    """One of the actor's own attempts (while enrolled); anyone else's is a 404."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None:
        raise NotFound("No such quiz attempt.")
    enrollment = db.session.get(Enrollment, attempt.enrollment_id)
    if enrollment.learner_id != actor.id or not enrollment.is_active:
        raise NotFound("No such quiz attempt.")
    return attempt


def attempts_page(enrollment: Enrollment, quiz: Quiz, *, before_id: int | None = None,
                  limit: int = 20) -> list[QuizAttempt]:
    """The learner's attempts at a quiz, the latest first."""
    stmt = sa.select(QuizAttempt).where(QuizAttempt.enrollment_id == enrollment.id,
                                        QuizAttempt.quiz_id == quiz.id)
    if before_id is not None:
        stmt = stmt.where(QuizAttempt.id < before_id)
    return list(db.session.scalars(stmt.order_by(QuizAttempt.id.desc()).limit(limit)))
