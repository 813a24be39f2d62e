"""The learning API: my enrollments, enrolling in a free course, progress, a lesson's content,
completing lessons, the video position, quiz attempts and my certificates, with every
forbidden path (no token, a token without the scope, another learner's things)."""
from __future__ import annotations

import pytest

from app.learning.models import LessonDelivery, LessonProgress
from tests.support.api import assert_problem
from tests.support.learning import right_answers, wrong_answers
from tests.support.player import complete, enroll, learning_course, lesson, revoked
from tests.support.rows import count

API = "/api/v1"


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


def lesson_url(course, title: str, tail: str = "") -> str:
    return f"{API}/courses/{course.id}/lessons/{lesson(course, title).id}{tail}"


def answers_json(answers: dict[int, list[int]]) -> dict:
    return {"answers": [{"question_id": q, "option_ids": options} for q, options in answers.items()]}


# --- who may call what -------------------------------------------------------------------

ROUTES = [  # method, path (filled with the course and its lessons), scope, JSON body
    ("GET", "/enrollments", "read", None),
    ("POST", "/enrollments", "learn", {"course_id": 1}),
    ("GET", "/enrollments/1", "read", None),
    ("GET", "/courses/{course}/progress", "read", None),
    ("GET", "/courses/{course}/lessons/{text}", "read", None),
    ("POST", "/courses/{course}/lessons/{text}/complete", "learn", None),
    ("PUT", "/courses/{course}/lessons/{video}/position", "learn", {"position_seconds": 3}),
    ("POST", "/courses/{course}/lessons/{quiz}/attempts", "learn", {"answers": []}),
    ("GET", "/courses/{course}/lessons/{quiz}/attempts", "read", None),
    ("GET", "/quiz-attempts/1", "read", None),
    ("GET", "/certificates", "read", None),
    ("GET", "/certificates/1", "read", None),
]


def fill(path: str, course) -> str:
    return API + path.format(course=course.id, text=lesson(course, "The first principle").id,
                             video=lesson(course, "Welcome video").id, quiz=lesson(course, "Check yourself").id)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_every_route_needs_a_token(anonymous, course, method, path, scope, body):
    resp = anonymous.open(method, fill(path, course), json=body)
    assert_problem(resp, 401)
    assert "Bearer" in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_every_route_needs_its_scope(api, learner, course, method, path, scope, body):
    other = "teach" if scope == "read" else "read"
    resp = api(learner, other).open(method, fill(path, course), json=body)
    assert f"`{scope}`" in assert_problem(resp, 403)["detail"]


# --- enrollments -------------------------------------------------------------------------

def test_enrolling_in_a_free_course(api, learner, course):
    resp = api(learner, "learn").post(f"{API}/enrollments", json={"course_id": course.id})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["course"]["id"] == course.id and body["source"] == "free"
    assert body["progress"]["percent"] == 0 and body["progress"]["total_lessons"] == 5
    assert body["next_lesson_id"] == lesson(course, "Welcome video").id
    again = api(learner, "learn").post(f"{API}/enrollments", json={"course_id": course.id})
    assert again.status_code == 201 and again.get_json()["id"] == body["id"]  # one enrollment


def test_a_paid_course_is_bought_not_enrolled(api, learner, creator, reviewer):
    paid = learning_course(creator, reviewer, title="Paid course", price=1999)
    body = assert_problem(api(learner, "learn").post(f"{API}/enrollments", json={"course_id": paid.id}), 409)
    assert "buy it" in body["detail"]


def test_a_draft_or_missing_course_cannot_be_enrolled_in(api, learner, creator, reviewer):
    draft = learning_course(creator, reviewer, title="Draft course", status="draft")
    assert_problem(api(learner, "learn").post(f"{API}/enrollments", json={"course_id": draft.id}), 409)
    assert_problem(api(learner, "learn").post(f"{API}/enrollments", json={"course_id": 999999}), 404)


@pytest.mark.parametrize("body", [{}, {"course_id": "x"}, {"course_id": 0}, {"course_id": 1, "extra": 1}])
def test_a_bad_enrollment_request_is_422(api, learner, body):
    assert_problem(api(learner, "learn").post(f"{API}/enrollments", json=body), 422)


def test_a_creator_does_not_enroll_in_their_own_course(api, creator, course):
    body = assert_problem(api(creator, "learn").post(f"{API}/enrollments", json={"course_id": course.id}), 422)
    assert "created this course" in body["detail"]


def test_enrolling_needs_a_json_body(api, learner, course):
    resp = api(learner, "learn").post(f"{API}/enrollments", data={"course_id": course.id})
    assert_problem(resp, 415)


def test_my_enrollments_a_page_at_a_time(api, learner, stranger, course, creator, reviewer):
    second = learning_course(creator, reviewer, title="Second course")
    first_row, second_row = enroll(learner, course), enroll(learner, second)
    enroll(stranger, course)
    revoked(learner, learning_course(creator, reviewer, title="Refunded course"))
    caller = api(learner, "read")
    page = caller.get(f"{API}/enrollments?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [second_row.id]
    rest = caller.get(f"{API}/enrollments", query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["id"] for item in rest["items"]] == [first_row.id] and rest["next_cursor"] is None
    assert rest["items"][0]["course"]["creator"]["display_name"] == creator.display_name


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=forged", "limit=x"])
def test_a_bad_list_query_is_422(api, learner, query):
    assert_problem(api(learner, "read").get(f"{API}/enrollments?{query}"), 422)


def test_a_cursor_of_another_list_is_422(api, learner, course, creator, reviewer):
    complete(learner, course)
    enroll(learner, learning_course(creator, reviewer, title="Another"))
    page = api(learner, "read").get(f"{API}/certificates?limit=1").get_json()
    assert page["next_cursor"] is None
    listed = api(learner, "read").get(f"{API}/enrollments?limit=1").get_json()
    assert_problem(api(learner, "read").get(f"{API}/certificates", query_string={"cursor": listed["next_cursor"]}),
                   422)


def test_one_enrollment_with_its_progress(api, learner, course):
    row = enroll(learner, course)
    api(learner, "learn").post(lesson_url(course, "Welcome video", "/complete"))
    body = api(learner, "read").get(f"{API}/enrollments/{row.id}").get_json()
    assert body["progress_percent"] == 20
    assert [item["completed"] for item in body["progress"]["lessons"]] == [True, False, False, False, False]
    assert body["next_lesson_id"] == lesson(course, "Course notes").id


def test_another_learners_enrollment_is_404(api, learner, stranger, course):
    theirs = enroll(stranger, course)
    assert_problem(api(learner, "read").get(f"{API}/enrollments/{theirs.id}"), 404)
    assert_problem(api(learner, "read").get(f"{API}/enrollments/999999"), 404)


def test_a_revoked_enrollment_is_gone(api, learner, course):
    row = revoked(learner, course)
    assert_problem(api(learner, "read").get(f"{API}/enrollments/{row.id}"), 404)


# --- progress and lessons -----------------------------------------------------------------

def test_the_courses_progress_figures(api, learner, course):
    enroll(learner, course)
    api(learner, "learn").post(lesson_url(course, "The first principle", "/complete"))
    body = api(learner, "read").get(f"{API}/courses/{course.id}/progress").get_json()
    assert (body["percent"], body["completed_lessons"], body["total_lessons"]) == (20, 1, 5)
    assert body["completed_at"] is None and body["last_activity_at"].endswith("Z")


def test_progress_needs_an_enrollment(api, stranger, course):
    body = assert_problem(api(stranger, "read").get(f"{API}/courses/{course.id}/progress"), 403)
    assert "Enroll" in body["detail"]
    assert_problem(api(stranger, "read").get(f"{API}/courses/999999/progress"), 404)


def test_a_text_lesson_gives_its_markdown_and_counts_as_opened(api, learner, course):
    enroll(learner, course)
    resp = api(learner, "read").get(lesson_url(course, "The first principle"))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["body"].startswith("## Start small") and body["media_url"] is None and body["enrolled"]
    assert body["previous_lesson_id"] == lesson(course, "Course notes").id
    assert count(LessonDelivery, LessonDelivery.user_id == learner.id, LessonDelivery.kind == "opened") == 1


def test_a_file_lesson_is_fetched_with_the_token_and_counts_as_delivered(api, anonymous, stranger, learner,
                                                                          course):
    enroll(learner, course)
    notes = lesson(course, "Course notes")
    caller = api(learner, "read")
    body = caller.get(lesson_url(course, "Course notes")).get_json()
    assert body["media_url"] == f"/api/v1/lessons/{notes.id}/media"
    assert body["kind"] == "pdf" and body["body"] is None
    whole = caller.get(body["media_url"])
    assert whole.status_code == 200 and whole.mimetype == "application/pdf" and whole.data.startswith(b"%PDF")
    assert "ETag" not in whole.headers and "no-store" in whole.headers["Cache-Control"]
    part = caller.get(body["media_url"], headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.data == b"%PDF"
    assert count(LessonDelivery, LessonDelivery.user_id == learner.id, LessonDelivery.kind == "file") == 1
    assert_problem(api(stranger, "read").get(body["media_url"]), 403)
    assert_problem(anonymous.get(body["media_url"]), 403)
    assert_problem(anonymous.get("/api/v1/lessons/999999/media"), 404)


def test_a_quiz_comes_without_its_answers(api, learner, course):
    enroll(learner, course)
    resp = api(learner, "read").get(lesson_url(course, "Check yourself"))
    body = resp.get_json()
    assert [q["prompt"] for q in body["quiz"]["questions"]] == ["What comes first?", "Tests find bugs."]
    text = resp.get_data(as_text=True)
    assert "is_correct" not in text and "explanation" not in text and "Small steps" not in text
    assert body["quiz"]["best_score_percent"] is None


def test_a_free_preview_is_open_to_anyone_with_a_token(api, stranger, course):
    body = api(stranger, "read").get(lesson_url(course, "Welcome video")).get_json()
    assert body["enrolled"] is False and body["is_free_preview"] and body["media_url"]
    assert count(LessonDelivery, LessonDelivery.user_id == stranger.id) == 0


def test_a_paid_lesson_needs_an_enrollment_as_in_the_player(api, stranger, learner, course):
    body = assert_problem(api(stranger, "read").get(lesson_url(course, "The first principle")), 403)
    assert "view this lesson" in body["detail"]
    revoked(learner, course)
    assert_problem(api(learner, "read").get(lesson_url(course, "The first principle")), 403)


def test_a_lesson_of_another_course_is_404(api, learner, course, creator, reviewer):
    other = learning_course(creator, reviewer, title="Other course")
    enroll(learner, course)
    assert_problem(api(learner, "read").get(f"{API}/courses/{course.id}/lessons/{other.lessons[0].id}"), 404)
    assert_problem(api(learner, "read").get(f"{API}/courses/{course.id}/lessons/999999"), 404)


def test_completing_every_lesson_completes_the_course(api, learner, course):
    enroll(learner, course)
    caller = api(learner, "learn")
    for title in ("Welcome video", "Course notes", "The first principle", "Wrap-up"):
        assert caller.post(lesson_url(course, title, "/complete")).status_code == 200
    quiz = lesson(course, "Check yourself")
    assert caller.post(lesson_url(course, "Check yourself", "/attempts"),
                       json=answers_json(right_answers(quiz))).status_code == 201
    body = api(learner, "read").get(f"{API}/courses/{course.id}/progress").get_json()
    assert body["percent"] == 100 and body["completed_at"] is not None


def test_a_quiz_is_completed_only_by_passing_it(api, learner, course):
    enroll(learner, course)
    body = assert_problem(api(learner, "learn").post(lesson_url(course, "Check yourself", "/complete")), 422)
    assert "Pass the quiz" in body["detail"]


def test_completing_needs_an_enrollment(api, stranger, learner, course):
    assert_problem(api(stranger, "learn").post(lesson_url(course, "Welcome video", "/complete")), 403)
    assert_problem(api(learner, "learn").post(f"{API}/courses/{course.id}/lessons/999999/complete"), 404)


def test_the_video_position_is_saved(api, learner, course):
    row = enroll(learner, course)
    resp = api(learner, "learn").put(lesson_url(course, "Welcome video", "/position"), json={"position_seconds": 42})
    assert resp.status_code == 204
    assert count(LessonProgress, LessonProgress.enrollment_id == row.id, LessonProgress.position_seconds == 42) == 1
    assert api(learner, "read").get(lesson_url(course, "Welcome video")).get_json()["position_seconds"] == 42
    assert count(LessonDelivery, LessonDelivery.user_id == learner.id, LessonDelivery.kind == "watched") == 1  # past the threshold


@pytest.mark.parametrize("body", [{"position_seconds": -1}, {"position_seconds": 10**6}, {}, {"position": 1}])
def test_a_bad_position_is_422(api, learner, course, body):
    enroll(learner, course)
    assert_problem(api(learner, "learn").put(lesson_url(course, "Welcome video", "/position"), json=body), 422)


def test_only_videos_have_a_position(api, learner, stranger, course):
    enroll(learner, course)
    body = assert_problem(api(learner, "learn").put(lesson_url(course, "Course notes", "/position"),
                                                    json={"position_seconds": 1}), 422)
    assert "video" in body["detail"]
    assert_problem(api(stranger, "learn").put(lesson_url(course, "Welcome video", "/position"),
                                              json={"position_seconds": 1}), 403)


# --- quiz attempts -------------------------------------------------------------------------

def test_submitting_a_quiz_grades_it_like_the_player(api, learner, course):
    enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    resp = api(learner, "learn").post(lesson_url(course, "Check yourself", "/attempts"),
                                      json=answers_json(wrong_answers(quiz)))
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["score_percent"], body["passed"], body["correct_count"]) == (0, False, 0)
    first = body["results"][0]
    assert first["correct_option_ids"] == right_answers(quiz)[first["question_id"]]
    assert first["explanation"] == "Small steps keep you moving forward."
    passed = api(learner, "learn").post(lesson_url(course, "Check yourself", "/attempts"),
                                        json=answers_json(right_answers(quiz))).get_json()
    assert passed["passed"] and passed["score_percent"] == 100
    content = api(learner, "read").get(lesson_url(course, "Check yourself")).get_json()
    assert content["completed"] and content["quiz"]["best_score_percent"] == 100


@pytest.mark.parametrize("case", ["missing", "foreign", "shape"])
def test_bad_answers_are_422(api, learner, course, case):
    enroll(learner, course)
    quiz = lesson(course, "Check yourself")
    answers = right_answers(quiz)
    if case == "missing":
        body = answers_json(dict(list(answers.items())[:1]))
    elif case == "foreign":
        body = answers_json({**answers, 999999: [1]})
    else:
        body = {"answers": [{"question_id": "one"}]}
    assert_problem(api(learner, "learn").post(lesson_url(course, "Check yourself", "/attempts"), json=body), 422)


def test_a_lesson_that_is_not_a_quiz_takes_no_answers(api, learner, course):
    enroll(learner, course)
    body = assert_problem(api(learner, "learn").post(lesson_url(course, "Wrap-up", "/attempts"),
                                                     json={"answers": []}), 422)
    assert "not a quiz" in body["detail"]


def test_quizzes_need_an_enrollment(api, stranger, course):
    quiz = lesson(course, "Check yourself")
    assert_problem(api(stranger, "learn").post(lesson_url(course, "Check yourself", "/attempts"),
                                               json=answers_json(right_answers(quiz))), 403)
    assert_problem(api(stranger, "read").get(lesson_url(course, "Check yourself", "/attempts")), 403)


def test_my_attempts_and_one_attempt(api, learner, stranger, course):
    enroll(learner, course)
    enroll(stranger, course)
    quiz = lesson(course, "Check yourself")
    url = lesson_url(course, "Check yourself", "/attempts")
    ids = [api(learner, "learn").post(url, json=answers_json(answers)).get_json()["id"]
           for answers in (wrong_answers(quiz), right_answers(quiz))]
    theirs = api(stranger, "learn").post(url, json=answers_json(right_answers(quiz))).get_json()["id"]
    page = api(learner, "read").get(url, query_string={"limit": 1}).get_json()
    assert [item["id"] for item in page["items"]] == [ids[1]]
    rest = api(learner, "read").get(url, query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["id"] for item in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    one = api(learner, "read").get(f"{API}/quiz-attempts/{ids[0]}").get_json()
    assert one["passed"] is False and one["results"] is None
    assert one["answers"] == [{"question_id": q, "option_ids": o} for q, o in sorted(wrong_answers(quiz).items())]
    assert_problem(api(learner, "read").get(f"{API}/quiz-attempts/{theirs}"), 404)
    assert_problem(api(learner, "read").get(url, query_string={"cursor": "nope"}), 422)


# --- certificates ----------------------------------------------------------------------------

def test_my_certificates(api, learner, stranger, course, creator, reviewer):
    complete(learner, course)
    second = learning_course(creator, reviewer, title="Second course")
    complete(learner, second)
    complete(stranger, course)
    caller = api(learner, "read")
    page = caller.get(f"{API}/certificates?limit=1").get_json()
    assert [item["course_title"] for item in page["items"]] == ["Second course"]
    rest = caller.get(f"{API}/certificates", query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["course_id"] for item in rest["items"]] == [course.id] and rest["next_cursor"] is None
    one = caller.get(f"{API}/certificates/{rest['items'][0]['id']}").get_json()
    assert one["learner_name"] == learner.display_name
    assert one["verification_url"] == f"http://localhost/certificates/{one['code']}"
    assert_problem(caller.get(f"{API}/certificates?limit=500"), 422)


def test_another_learners_certificate_is_404(api, learner, stranger, course):
    complete(stranger, course)
    theirs = api(stranger, "read").get(f"{API}/certificates").get_json()["items"][0]
    assert_problem(api(learner, "read").get(f"{API}/certificates/{theirs['id']}"), 404)
    assert_problem(api(learner, "read").get(f"{API}/certificates/999999"), 404)
