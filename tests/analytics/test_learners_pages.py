"""The learners, lesson drop-off, quizzes and reviews & Q&A sections of /studio/analytics and
/studio/courses/<id>/analytics (issue 17, part 1): what a creator reads there, as a page and
as the htmx fragment, and that nobody else's course figures can be read."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.dbtypes import utcnow
from app.extensions import db
from app.learning import attempts, discussions, enrollment, progress, reviews
from tests.support.learning import right_answers, wrong_answers
from tests.support.player import learning_course, lesson


@pytest.fixture
def course(db, creator, admin):
    return learning_course(creator, admin, title="Learning by Doing")


@pytest.fixture
def busy(course, creator, learner, classmate):
    """Two learners: both open the video, one goes on to the notes and takes the quiz five times
    (passing once); a review and an unanswered question."""
    now = utcnow() - timedelta(days=1)
    for person in (learner, classmate):
        enrollment.enroll(person, course, source="free", now=now)
        video = lesson(course, "Welcome video")
        progress.open_lesson(person, progress.access_lesson(person, course.id, video.id), now=now)
        progress.save_position(person, video, 60, now=now)
    notes = lesson(course, "Course notes")
    progress.open_lesson(learner, progress.access_lesson(learner, course.id, notes.id), now=now)
    quiz_lesson = lesson(course, "Check yourself")
    for _ in range(4):
        attempts.submit_quiz(learner, quiz_lesson, wrong_answers(quiz_lesson), now=now)
    attempts.submit_quiz(learner, quiz_lesson, right_answers(quiz_lesson), now=now)
    reviews.write_review(learner, course, rating=4, now=now)
    discussions.start_thread(classmate, course, title="Is there a sequel?", body="Asking for a friend.", now=now)
    db.session.commit()
    return course


def course_url(course) -> str:
    return f"/studio/courses/{course.id}/analytics"


def test_the_course_page_answers_which_lesson_loses_learners_and_which_question_is_hardest(
        client, login, creator, busy):
    login(creator)
    page = client.get(course_url(busy))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("New enrollments", "Completion rate", "Median time to complete", "Active in the last 7 days",
                 "Most learners stop after “Welcome video”", "50% of everyone who enrolled",
                 "Hardest questions", "What comes first?", "Tests find bugs.", "Pass rate per quiz",
                 "Reviews written", "4.0 of 5", "Open questions", "Median time to first answer",
                 "Since the course began", "Learners who reached each lesson"):
        assert text in html, text
    assert 'id="learners-chart"' in html and 'id="reviews-chart"' in html


def test_the_sections_come_in_the_htmx_fragment(htmx, login, creator, busy):
    login(creator)
    page = htmx.get(course_url(busy) + "?range=7d&by=day")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" not in html
    assert "Where learners stop" in html and "Hardest questions" in html


def test_all_courses_list_each_courses_biggest_drop_with_a_link(client, login, creator, busy, admin):
    empty = learning_course(creator, admin, title="Nobody here yet")
    login(creator)
    html = client.get("/studio/analytics").get_data(as_text=True)
    assert f'href="{course_url(busy)}#lessons"' in html
    assert "After “Welcome video”: 50% of learners stop there" in html
    assert f'href="{course_url(empty)}#lessons"' in html and "Nobody enrolled yet" in html
    assert "Learners who reached each lesson" not in html  # the per-lesson chart is on a course's page


def test_the_all_courses_fragment_has_the_sections(htmx, login, creator, busy):
    login(creator)
    page = htmx.get("/studio/analytics?range=30d")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" not in html
    assert "After “Welcome video”" in html and "What comes first?" in html and "Reviews written" in html


def test_a_course_without_learners_shows_dashes_not_errors(client, login, creator, course):
    login(creator)
    html = client.get(course_url(course) + "?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert "No enrollments in this period" in html and "Nobody has enrolled yet." in html
    assert "No question has been answered 5 times yet." in html
    assert "<th scope=\"row\">Check yourself</th>" in html  # listed, with "—" for its pass rate


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_another_creators_course_figures_are_not_found(client, login, make_user, busy, headers):
    login(make_user(email="rival@example.test", display_name="Rita Rival"))
    page = client.get(course_url(busy), headers=headers)
    assert page.status_code == 404
    assert "What comes first?" not in page.get_data(as_text=True)


def test_a_creators_own_page_shows_none_of_another_creators_courses(client, login, make_user, busy):
    login(make_user(email="rival@example.test", display_name="Rita Rival"))
    html = client.get("/studio/analytics").get_data(as_text=True)
    assert busy.title not in html and "What comes first?" not in html
    assert "None of your courses has lessons yet." in html


def test_a_visitor_must_sign_in(client, busy):
    page = client.get(course_url(busy))
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]


def test_an_unknown_course_is_not_found(client, login, creator):
    login(creator)
    assert client.get("/studio/courses/999999/analytics").status_code == 404


def test_a_page_view_reads_no_progress_or_quiz_attempt_rows(client, login, creator, busy):
    login(creator)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        for url in (course_url(busy), "/studio/analytics?range=90d"):
            assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert any("analytics_lesson_reach" in statement for statement in statements)
    assert not [s for s in statements if "lesson_progress" in s or "quiz_attempt" in s]
