"""The learner's side over HTTP: enrolling, the player's access matrix, marking lessons done,
the saved video position and quizzes (graded on the server, answers never sent before).

`learning_course` (also used by the discussion, review, certificate, dashboard and course-page
tests) builds a whole course through the catalog services, the way a creator and a reviewer
would: a free-preview video, a PDF and a text lesson, then a quiz and a closing text lesson.
"""
from __future__ import annotations

import re

import pytest

from app.catalog import structure
from app.catalog.models import Lesson
from app.extensions import db
from app.learning import attempts, progress
from app.learning.models import Certificate, Enrollment, LessonProgress, QuizAttempt
from tests.support.learning import right_answers
from tests.support.pages import HX, text
from tests.support.player import (
    SINGLE_EXPLANATION,
    TRUE_FALSE_EXPLANATION,
    enroll,
    learning_course,
    lesson,
    player_url,
    revoked,
)
from tests.support.rows import count, fresh

# --- building a course and learners ----------------------------------------------------------


def answer_form(quiz_lesson: Lesson, *, right: int | None = None) -> dict[str, list[str]]:
    """Form data answering the quiz: every question right, or only the first `right` ones."""
    form = {}
    for index, question in enumerate(quiz_lesson.quiz.questions):
        correct = right is None or index < right
        chosen = [o for o in question.options if o.is_correct == correct][:1]
        form[f"q-{question.id}"] = [str(o.id) for o in chosen]
    return form


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


def done_in_syllabus(body: str) -> list[str]:
    """The titles the player's syllabus ticks as done."""
    return re.findall(r'<li class="done">\s*<a [^>]*>\s*<span class="tick" aria-hidden="true">✓</span>\s*'
                      r'([^<]+?)<span class="visually-hidden"> \(done\)</span>', body)


# --- enrolling -----------------------------------------------------------------------------

def test_enrolling_in_a_free_course_takes_one_click(client, login, learner, course):
    login(learner)
    resp = client.post(f"/learn/courses/{course.id}/enroll")
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/learn/{course.id}"
    assert count(Enrollment, Enrollment.learner_id == learner.id, Enrollment.course_id == course.id) == 1
    page = client.get(resp.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    assert "You are enrolled in “Learning by Doing”" in text(page)
    assert "Welcome video" in text(page)


def test_enrolling_twice_keeps_one_enrollment(client, login, learner, course):
    login(learner)
    for _ in range(2):
        assert client.post(f"/learn/courses/{course.id}/enroll").status_code == 302
    assert count(Enrollment, Enrollment.learner_id == learner.id, Enrollment.course_id == course.id) == 1


def test_enrolling_with_htmx_navigates_the_whole_page(client, login, learner, course):
    login(learner)
    resp = client.post(f"/learn/courses/{course.id}/enroll", headers=HX)
    assert resp.headers["HX-Redirect"] == f"/learn/{course.id}"
    assert "<html" not in resp.get_data(as_text=True)
    assert count(Enrollment, Enrollment.learner_id == learner.id) == 1


def test_a_paid_course_is_not_enrolled_for_free(client, login, learner, creator, reviewer):
    paid = learning_course(creator, reviewer, title="Paid Course", price=1999)
    login(learner)
    resp = client.post(f"/learn/courses/{paid.id}/enroll")
    assert resp.status_code == 409
    assert "<html" in resp.get_data(as_text=True)
    assert "This is a paid course: buy it to enroll." in text(resp)
    assert count(Enrollment, Enrollment.learner_id == learner.id) == 0


def test_a_draft_course_cannot_be_enrolled_in(client, htmx, login, learner, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Unfinished", status="draft")
    login(learner)
    resp = client.post(f"/learn/courses/{draft.id}/enroll")
    assert resp.status_code == 409
    assert "not available for enrollment" in text(resp)
    fragment = htmx.post(f"/learn/courses/{draft.id}/enroll")
    assert fragment.status_code == 409
    assert "<html" not in fragment.get_data(as_text=True)
    assert count(Enrollment, Enrollment.learner_id == learner.id) == 0


def test_a_creator_cannot_enroll_in_their_own_course(client, login, creator, course):
    login(creator)
    resp = client.post(f"/learn/courses/{course.id}/enroll")
    assert resp.status_code == 422
    assert "You created this course" in text(resp)
    assert count(Enrollment, Enrollment.course_id == course.id) == 0


def test_enrolling_needs_an_account(client, htmx, course):
    resp = client.post(f"/learn/courses/{course.id}/enroll")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")
    fragment = htmx.post(f"/learn/courses/{course.id}/enroll")
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/auth/login")
    assert count(Enrollment, Enrollment.course_id == course.id) == 0


def test_enrolling_in_a_missing_course_is_404(client, login, learner):
    login(learner)
    assert client.post("/learn/courses/999999/enroll").status_code == 404


def test_a_revoked_learner_can_come_back_to_a_free_course(client, login, learner, course):
    gone = revoked(learner, course)
    login(learner)
    assert client.get(player_url(course, "Course notes")).status_code == 403
    assert client.post(f"/learn/courses/{course.id}/enroll").status_code == 302
    assert fresh(Enrollment, gone.id).revoked_at is None
    assert client.get(player_url(course, "Course notes")).status_code == 200


# --- the player: access matrix -----------------------------------------------------------------

PERSONAS = ("anonymous", "stranger", "enrolled", "revoked", "creator", "reviewer")
CAN_OPEN = {  # persona -> (free-preview lesson, normal lesson)
    "anonymous": (True, False), "stranger": (True, False), "enrolled": (True, True),
    "revoked": (True, False), "creator": (True, True), "reviewer": (True, True),
}


@pytest.fixture
def as_persona(login, learner, creator, reviewer, stranger, course):
    def sign_in(persona: str):
        if persona == "enrolled":
            enroll(learner, course)
            login(learner)
        elif persona == "revoked":
            revoked(learner, course)
            login(learner)
        elif persona != "anonymous":
            login({"stranger": stranger, "creator": creator, "reviewer": reviewer}[persona])
    return sign_in


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("title, preview", [("Welcome video", True), ("The first principle", False)])
def test_who_may_open_a_lesson_by_url(client, as_persona, course, persona, title, preview):
    as_persona(persona)
    resp = client.get(player_url(course, title))
    allowed = CAN_OPEN[persona][0 if preview else 1]
    assert resp.status_code == (200 if allowed else 403)
    body = resp.get_data(as_text=True)
    assert "<html" in body
    if allowed:
        assert f'id="lesson-title">{title}<' in body
    else:
        assert "You are not allowed to view this lesson." in text(resp)
        assert "Make it <em>work</em> first." not in body


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("title, preview", [("Welcome video", True), ("The first principle", False)])
def test_who_may_open_a_lesson_by_htmx(htmx, as_persona, course, persona, title, preview):
    as_persona(persona)
    resp = htmx.get(player_url(course, title))
    allowed = CAN_OPEN[persona][0 if preview else 1]
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert resp.status_code == (200 if allowed else 403)
    if allowed:
        assert f'id="lesson-title">{title}<' in body
        assert 'class="lesson-nav"' in body
        assert 'class="syllabus"' not in body  # only the lesson panel
    else:
        assert resp.headers["HX-Retarget"] == "#alerts"
        assert "Make it <em>work</em> first." not in body


def test_the_text_lesson_renders_its_markdown(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    body = client.get(player_url(course, "The first principle")).get_data(as_text=True)
    assert "Make it <em>work</em> first." in body


def test_a_free_preview_of_a_draft_is_closed_to_strangers(client, htmx, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Draft Course", status="draft")
    assert client.get(player_url(draft, "Welcome video")).status_code == 403
    assert htmx.get(player_url(draft, "Welcome video")).status_code == 403


def test_a_lesson_of_another_course_is_404(client, login, learner, course, creator, reviewer):
    other = learning_course(creator, reviewer, title="Other Course")
    enroll(learner, course)
    login(learner)
    resp = client.get(f"/learn/{course.id}/lessons/{lesson(other, 'Course notes').id}")
    assert resp.status_code == 404
    assert client.get(f"/learn/{course.id}/lessons/999999").status_code == 404


def test_the_player_lists_the_syllabus_with_progress(client, login, learner, course):
    enroll(learner, course)
    progress.complete_lesson(learner, lesson(course, "Welcome video"))
    db.session.commit()
    login(learner)
    body = text(client.get(player_url(course, "Course notes")))
    assert "20% complete" in body
    assert done_in_syllabus(body) == ["Welcome video"]
    assert re.search(r'aria-current="page">\s*<span class="tick" aria-hidden="true">○</span>\s*Course notes', body)


def test_the_player_media_is_served_to_whoever_may_open_the_lesson(client, login, learner, stranger,
                                                                   course):
    notes = f"/courses/lessons/{lesson(course, 'Course notes').id}/media"
    enroll(learner, course)
    login(learner)
    assert f'data="{notes}"' in client.get(player_url(course, "Course notes")).get_data(as_text=True)
    resp = client.get(notes)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    login(stranger)
    assert client.get(notes).status_code == 403
    revoked_learner = revoked(stranger, course)
    assert revoked_learner.revoked_at is not None
    assert client.get(notes).status_code == 403


# --- continue where I left off -----------------------------------------------------------------

def test_the_course_player_starts_at_the_first_lesson(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.get(f"/learn/{course.id}")
    assert resp.status_code == 302
    assert resp.headers["Location"] == player_url(course, "Welcome video")


def test_the_course_player_continues_where_the_learner_left_off(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    client.get(player_url(course, "The first principle"))
    assert client.get(f"/learn/{course.id}").headers["Location"] == player_url(course, "The first principle")


def test_the_course_player_needs_an_enrollment(client, htmx, login, stranger, course):
    assert client.get(f"/learn/{course.id}").headers["Location"].startswith("/auth/login")
    login(stranger)
    resp = client.get(f"/learn/{course.id}")
    assert resp.status_code == 403
    assert "Enroll in this course to continue." in text(resp)
    assert htmx.get(f"/learn/{course.id}").status_code == 403


# --- marking lessons done ----------------------------------------------------------------------

def test_mark_complete_moves_on_to_the_next_lesson(client, login, learner, course):
    found = enroll(learner, course)
    login(learner)
    resp = client.post(player_url(course, "Welcome video") + "/complete")
    assert resp.status_code == 302
    assert resp.headers["Location"] == player_url(course, "Course notes")
    assert count(LessonProgress, LessonProgress.enrollment_id == found.id,
                 LessonProgress.completed_at.is_not(None)) == 1
    page = text(client.get(resp.headers["Location"]))
    assert done_in_syllabus(page) == ["Welcome video"]


def test_mark_complete_by_htmx_answers_with_the_panel(htmx, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = htmx.post(player_url(course, "The first principle") + "/complete")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert "Done ✓" in body


def test_completing_the_last_lesson_completes_the_course(client, login, learner, course):
    found = enroll(learner, course)
    for title in ("Welcome video", "Course notes", "The first principle"):
        progress.complete_lesson(learner, lesson(course, title))
    attempts.submit_quiz(learner, lesson(course, "Check yourself"), right_answers(lesson(course, "Check yourself")))
    db.session.commit()
    login(learner)
    resp = client.post(player_url(course, "Wrap-up") + "/complete")
    assert resp.headers["Location"] == player_url(course, "Wrap-up")
    page = client.get(resp.headers["Location"])
    body = text(page)
    assert "You completed the course. Congratulations!" in body
    assert "See your certificate" in body
    assert "100% complete" in body
    assert fresh(Enrollment, found.id).completed_at is not None
    assert count(Certificate, Certificate.enrollment_id == found.id) == 1


def test_a_quiz_is_not_completed_by_the_button(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.post(player_url(course, "Check yourself") + "/complete")
    assert resp.status_code == 422
    assert "Pass the quiz to complete this lesson." in text(resp)


def test_mark_complete_needs_an_enrollment(client, htmx, login, creator, stranger, course):
    url = player_url(course, "Welcome video") + "/complete"
    assert client.post(url).headers["Location"].startswith("/auth/login")
    login(creator)  # may watch every lesson, but has no progress to keep
    assert client.post(url).status_code == 403
    login(stranger)
    assert client.post(url).status_code == 403
    assert htmx.post(player_url(course, "Course notes") + "/complete").status_code == 403
    assert count(LessonProgress) == 0


# --- video position ------------------------------------------------------------------------------

def test_the_video_position_is_saved_and_restored(client, htmx, login, learner, course):
    enroll(learner, course)
    login(learner)
    url = player_url(course, "Welcome video")
    assert 'data-start="0"' in client.get(url).get_data(as_text=True)
    resp = htmx.post(url + "/position", data={"position": "42.7"})
    assert resp.status_code == 204
    assert resp.get_data() == b""
    body = client.get(url).get_data(as_text=True)
    assert 'data-start="42"' in body
    assert 'name="position" value="42"' in body
    assert 'data-start="42"' in htmx.get(url).get_data(as_text=True)


@pytest.mark.parametrize("position", ["abc", "", "-1", "86401", "nan", "inf", "-inf", "1e400",
                                      "9" * 400, "0x10"])
def test_a_bad_video_position_is_refused(client, login, learner, course, position):
    enroll(learner, course)
    login(learner)
    resp = client.post(player_url(course, "Welcome video") + "/position", data={"position": position})
    assert resp.status_code == 422
    assert "position" in text(resp)
    assert count(LessonProgress, LessonProgress.position_seconds != 0) == 0


def test_only_videos_have_a_position(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.post(player_url(course, "Course notes") + "/position", data={"position": "5"})
    assert resp.status_code == 422
    assert "Only video lessons" in text(resp)


def test_saving_a_position_needs_an_enrollment(client, login, stranger, creator, course):
    url = player_url(course, "Welcome video") + "/position"
    assert client.post(url, data={"position": "5"}).status_code == 302
    login(stranger)
    assert client.post(url, data={"position": "5"}).status_code == 403
    login(creator)
    assert client.post(url, data={"position": "5"}).status_code == 403
    assert count(LessonProgress) == 0


# --- quizzes -----------------------------------------------------------------------------------

def quiz_url(course) -> str:
    return player_url(course, "Check yourself")


def test_the_quiz_gives_nothing_away_before_submitting(client, htmx, login, learner, course):
    enroll(learner, course)
    login(learner)
    for resp in (client.get(quiz_url(course)), htmx.get(quiz_url(course))):
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert "What comes first?" in body and "A tiny goal" in body and "A big plan" in body
        assert SINGLE_EXPLANATION not in body
        assert TRUE_FALSE_EXPLANATION not in body
        assert "correct answer" not in body
        assert 'class="explanation"' not in body
        assert not re.search(r'class="quiz-question (right|wrong)"', body)
        assert "Submit answers" in body


def test_the_quiz_preview_gives_nothing_away_either(client, creator, reviewer, login):
    course = learning_course(creator, reviewer, title="Open Quiz")
    structure.update_lesson(creator, lesson(course, "Check yourself"), is_free_preview=True)
    db.session.commit()
    body = client.get(quiz_url(course)).get_data(as_text=True)
    assert "What comes first?" in body
    assert SINGLE_EXPLANATION not in body and "correct answer" not in body
    assert "Enroll to take the quiz." in body
    login(creator)
    preview = client.get(f"/courses/{course.id}/preview/lessons/{lesson(course, 'Check yourself').id}")
    assert SINGLE_EXPLANATION not in preview.get_data(as_text=True)


def test_submitting_shows_the_score_and_the_explanations(client, login, learner, course):
    found = enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    login(learner)
    resp = client.post(quiz_url(course) + "/quiz", data=answer_form(quiz, right=1))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body
    assert "<strong>50%</strong> — 1 of 2 right." in body
    assert "Not quite" in body
    assert SINGLE_EXPLANATION in body and TRUE_FALSE_EXPLANATION in body
    assert "correct answer" in body
    assert 'class="quiz-question right"' in body and 'class="quiz-question wrong"' in body
    assert count(QuizAttempt, QuizAttempt.enrollment_id == found.id) == 1
    assert count(LessonProgress, LessonProgress.enrollment_id == found.id,
                 LessonProgress.completed_at.is_not(None)) == 0


def test_passing_the_quiz_by_htmx_completes_the_lesson(htmx, login, learner, course):
    found = enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    login(learner)
    resp = htmx.post(quiz_url(course) + "/quiz", data=answer_form(quiz))
    body = text(resp)
    assert resp.status_code == 200
    assert "<html" not in body
    assert "<strong>100%</strong> — 2 of 2 right." in body and "You passed!" in body
    assert SINGLE_EXPLANATION in body
    assert count(LessonProgress, LessonProgress.enrollment_id == found.id,
                 LessonProgress.lesson_id == quiz.id, LessonProgress.completed_at.is_not(None)) == 1


def test_a_retry_keeps_the_best_score(client, login, learner, course):
    enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    login(learner)
    client.post(quiz_url(course) + "/quiz", data=answer_form(quiz))
    resp = client.post(quiz_url(course) + "/quiz", data=answer_form(quiz, right=0))
    body = text(resp)
    assert "<strong>0%</strong> — 0 of 2 right." in body
    assert "Your best score: 100%." in body
    assert "Your best score: 100%." in text(client.get(quiz_url(course)))


def _bad_answers(quiz: Lesson, other_quiz: Lesson, case: str) -> dict:
    form = answer_form(quiz)
    first, second = quiz.quiz.questions
    if case == "missing one":
        del form[f"q-{second.id}"]
    elif case == "nothing":
        form = {}
    elif case == "unknown question":
        form["q-99999999"] = [str(first.options[0].id)]
    elif case == "another quiz's question":
        other = other_quiz.quiz.questions[0]
        form[f"q-{other.id}"] = [str(other.options[0].id)]
    elif case == "another question's option":
        form[f"q-{first.id}"] = [str(second.options[0].id)]
    elif case == "two options for a single choice":
        form[f"q-{first.id}"] = [str(o.id) for o in first.options]
    elif case == "not a number":
        form[f"q-{first.id}"] = ["abc"]
    elif case == "question id not a number":
        form["q-abc"] = ["1"]
    elif case == "huge ids":
        form[f"q-{first.id}"] = [str(10 ** 30)]
    return form


@pytest.mark.parametrize("case, message", [
    ("missing one", "Answer every question before you submit."),
    ("nothing", "Answer every question before you submit."),
    ("unknown question", "Some answers belong to another quiz"),
    ("another quiz's question", "Some answers belong to another quiz"),
    ("another question's option", "Some answers belong to another question"),
    ("two options for a single choice", "Choose one answer for each single-choice question."),
    ("not a number", "The answers were not understood"),
    ("question id not a number", "The answers were not understood"),
    ("huge ids", "Some answers belong to another question"),
])
def test_missing_or_forged_answers_are_refused(client, htmx, login, learner, course, creator, reviewer,
                                               case, message):
    other = learning_course(creator, reviewer, title="Another Quiz Course")
    enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    login(learner)
    form = _bad_answers(quiz, lesson(other, "Check yourself"), case)
    resp = client.post(quiz_url(course) + "/quiz", data=form)
    assert resp.status_code == 422
    body = text(resp)
    assert message in body
    assert "What comes first?" in body  # the quiz is still there to answer again
    assert SINGLE_EXPLANATION not in body and "correct answer" not in body
    fragment = htmx.post(quiz_url(course) + "/quiz", data=form)
    assert fragment.status_code == 422
    assert message in text(fragment) and "<html" not in fragment.get_data(as_text=True)
    assert count(QuizAttempt) == 0


def test_the_quiz_needs_an_enrollment(client, login, creator, stranger, course):
    quiz = lesson(course, "Check yourself")
    url = quiz_url(course) + "/quiz"
    assert client.post(url, data=answer_form(quiz)).status_code == 302
    login(stranger)
    assert client.post(url, data=answer_form(quiz)).status_code == 403
    login(creator)
    resp = client.post(url, data=answer_form(quiz))
    assert resp.status_code == 403
    assert SINGLE_EXPLANATION not in resp.get_data(as_text=True)
    assert count(QuizAttempt) == 0


def test_posting_answers_to_a_lesson_that_is_not_a_quiz_is_refused(client, login, learner, course):
    enroll(learner, course)
    login(learner)
    resp = client.post(player_url(course, "Course notes") + "/quiz", data={"q-1": ["1"]})
    assert resp.status_code == 422
    assert "This lesson is not a quiz." in text(resp)


# --- CSRF ----------------------------------------------------------------------------------------

def test_learner_forms_carry_their_csrf_token(client, login, learner, course, csrf_on):
    login(learner)
    assert client.post(f"/learn/courses/{course.id}/enroll").status_code == 400
    assert count(Enrollment) == 0
    page = client.get(f"/courses/{course.slug}")
    token = re.search(r'action="/learn/courses/\d+/enroll">\s*<input type="hidden" name="csrf_token" '
                      r'value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post(f"/learn/courses/{course.id}/enroll", data={"csrf_token": token}).status_code == 302
    url = player_url(course, "Welcome video")
    assert htmx_post_without_token(client, url + "/position").status_code == 400
    player = client.get(url).get_data(as_text=True)
    header_token = re.search(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", player).group(1)
    resp = client.post(url + "/position", data={"position": "7"},
                       headers={**HX, "X-CSRFToken": header_token})
    assert resp.status_code == 204
    assert 'data-start="7"' in client.get(url).get_data(as_text=True)


def htmx_post_without_token(client, url):
    return client.post(url, data={"position": "7"}, headers=HX)
