"""The discussions API: a course's questions and replies for its members, asking, replying,
editing, deleting, upvoting, answers and reports, under the discussion pages' rules, with
every forbidden path."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.dbtypes import utcnow
from app.extensions import db
from app.learning import discussions
from app.learning.models import Post, Thread
from app.messaging.models import Notification
from app.moderation.models import Report
from tests.support.api import assert_problem
from tests.support.player import ask_question, enroll, learning_course, lesson, reply_as, revoked
from tests.support.rows import count, fresh

API = "/api/v1"


@pytest.fixture
def course(creator, reviewer):
    return learning_course(creator, reviewer)


@pytest.fixture
def thread(course, learner):
    """The learner's question on the course, enrolled."""
    return ask_question(learner, course)


ROUTES = [  # method, path, scope, body
    ("GET", "/courses/{course}/threads", "read", None),
    ("POST", "/courses/{course}/threads", "learn", {"title": "T", "body": "B"}),
    ("GET", "/threads/{thread}", "read", None),
    ("POST", "/threads/{thread}/posts", "learn", {"body": "B"}),
    ("PATCH", "/posts/{post}", "learn", {"body": "B"}),
    ("DELETE", "/posts/{post}", "learn", None),
    ("POST", "/posts/{post}/vote", "learn", None),
    ("POST", "/posts/{post}/answer", "learn", None),
    ("DELETE", "/threads/{thread}/answer", "learn", None),
    ("POST", "/posts/{post}/report", "learn", {"reason": "spam"}),
]


def fill(path: str, thread) -> str:
    return API + path.format(course=thread.course_id, thread=thread.id, post=thread.posts[0].id)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_every_route_needs_a_token_with_its_scope(anonymous, api, learner, thread, method, path, scope, body):
    assert_problem(anonymous.open(method, fill(path, thread), json=body), 401)
    other = "teach" if scope == "read" else "read"
    resp = api(learner, other).open(method, fill(path, thread), json=body)
    assert f"`{scope}`" in assert_problem(resp, 403)["detail"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_non_members_are_kept_out(api, stranger, learner, thread, method, path, scope, body):
    """As on the pages: a 403 for someone who is neither enrolled, the creator nor a moderator
    (the course is public, its board is not)."""
    assert_problem(api(stranger, "read", "learn").open(method, fill(path, thread), json=body), 403)
    revoked(learner, thread.course)
    assert_problem(api(learner, "read", "learn").open(method, fill(path, thread), json=body), 403)


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_missing_things_are_404(api, learner, thread, method, path, scope, body):
    url = API + path.format(course=999999, thread=999999, post=999999)
    assert_problem(api(learner, "read", "learn").open(method, url, json=body), 404)


# --- reading -------------------------------------------------------------------------------

def test_the_board_a_page_at_a_time(api, learner, classmate, creator, moderator, thread, course):
    enroll(classmate, course)
    later = discussions.start_thread(classmate, course, title="Second", body="Another",
                                     lesson_id=lesson(course, "Wrap-up").id)
    db.session.commit()
    caller = api(learner, "read")
    page = caller.get(f"{API}/courses/{course.id}/threads?limit=1").get_json()
    assert [item["id"] for item in page["items"]] == [later.id]
    assert page["items"][0]["lesson_id"] == lesson(course, "Wrap-up").id
    rest = caller.get(f"{API}/courses/{course.id}/threads",
                      query_string={"limit": 1, "cursor": page["next_cursor"]}).get_json()
    assert [item["id"] for item in rest["items"]] == [thread.id] and rest["next_cursor"] is None
    only = caller.get(f"{API}/courses/{course.id}/threads",
                      query_string={"lesson_id": lesson(course, "Wrap-up").id}).get_json()
    assert [item["id"] for item in only["items"]] == [later.id]
    for member in (creator, moderator):  # the creator and moderators take part too
        assert api(member, "read").get(f"{API}/courses/{course.id}/threads").status_code == 200


@pytest.mark.parametrize("query", ["limit=0", "cursor=forged", "lesson_id=0", "lesson_id=x"])
def test_a_bad_board_query_is_422(api, learner, thread, query):
    assert_problem(api(learner, "read").get(f"{API}/courses/{thread.course_id}/threads?{query}"), 422)


def test_a_thread_with_its_posts(api, learner, creator, thread):
    answer = reply_as(creator, thread, "Five minutes of work.")
    body = api(learner, "read").get(f"{API}/threads/{thread.id}").get_json()
    assert body["title"] == "How small is small?" and body["reply_count"] == 1
    question, reply = body["posts"]
    assert question["body"] == "What counts as a *tiny* goal?" and question["author_name"] == learner.display_name
    assert reply["id"] == answer.id and reply["by_creator"] and not question["by_creator"]
    assert "email" not in str(body)


# --- asking and replying -------------------------------------------------------------------

def test_asking_a_question_notifies_the_creator(api, learner, creator, course):
    enroll(learner, course)
    resp = api(learner, "learn").post(f"{API}/courses/{course.id}/threads",
                                      json={"title": "  Why   quizzes? ", "body": "Just curious.",
                                            "lesson_id": lesson(course, "Check yourself").id})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["title"] == "Why quizzes?" and body["posts"][0]["body"] == "Just curious."
    assert count(Notification, Notification.user_id == creator.id, Notification.kind == "discussion.question") == 1


@pytest.mark.parametrize(("body", "says"), [
    ({"title": " ", "body": "B"}, "title"), ({"title": "T", "body": "  "}, "Write something"),
    ({"title": "x" * 201, "body": "B"}, "title"), ({"title": "T"}, "body"),
    ({"title": "T", "body": "B", "lesson_id": 999999}, "lesson"), ({"title": "T", "body": "B", "x": 1}, "x")])
def test_a_bad_question_is_422(api, learner, course, body, says):
    enroll(learner, course)
    problem = assert_problem(api(learner, "learn").post(f"{API}/courses/{course.id}/threads", json=body), 422)
    assert says in problem["detail"]
    assert count(Thread) == 0


def test_a_question_about_another_courses_lesson_is_422(api, learner, course, creator, reviewer):
    other = learning_course(creator, reviewer, title="Other course")
    enroll(learner, course)
    body = {"title": "T", "body": "B", "lesson_id": other.lessons[0].id}
    assert_problem(api(learner, "learn").post(f"{API}/courses/{course.id}/threads", json=body), 422)


def test_replying_notifies_the_asker(api, learner, classmate, thread, course):
    enroll(classmate, course)
    resp = api(classmate, "learn").post(f"{API}/threads/{thread.id}/posts", json={"body": "Try *five* minutes."})
    assert resp.status_code == 201
    assert resp.get_json()["body"] == "Try *five* minutes." and not resp.get_json()["is_answer"]
    assert count(Notification, Notification.user_id == learner.id, Notification.kind == "discussion.reply") == 1


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "x" * 20_001}, {}, {"body": 5}])
def test_a_bad_reply_is_422(api, learner, thread, body):
    assert_problem(api(learner, "learn").post(f"{API}/threads/{thread.id}/posts", json=body), 422)
    assert count(Post) == 1


# --- editing and deleting ------------------------------------------------------------------

def test_editing_my_post_within_15_minutes(api, learner, thread):
    post = thread.posts[0]
    resp = api(learner, "learn").patch(f"{API}/posts/{post.id}", json={"body": "Edited"})
    assert resp.status_code == 200 and resp.get_json()["edited_at"] is not None
    assert_problem(api(learner, "learn").patch(f"{API}/posts/{post.id}", json={"body": " "}), 422)
    post.created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    assert "15 minutes" in assert_problem(
        api(learner, "learn").patch(f"{API}/posts/{post.id}", json={"body": "Late"}), 403)["detail"]
    assert fresh(Post, post.id).body == "Edited"


def test_nobody_edits_someone_elses_post(api, creator, moderator, classmate, thread, course):
    enroll(classmate, course)
    for user in (classmate, creator, moderator):
        assert_problem(api(user, "learn").patch(f"{API}/posts/{thread.posts[0].id}", json={"body": "Hijack"}), 403)


def test_deleting_a_reply_leaves_a_tombstone(api, learner, creator, thread):
    answer = reply_as(creator, thread, "Delete me")
    assert api(creator, "learn").delete(f"{API}/posts/{answer.id}").status_code == 204
    body = api(learner, "read").get(f"{API}/threads/{thread.id}").get_json()
    assert (body["posts"][1]["body"], body["posts"][1]["deleted"]) == (None, True)
    assert_problem(api(creator, "learn").delete(f"{API}/posts/{answer.id}"), 403)  # deleted already


def test_deleting_the_question_deletes_the_thread(api, learner, thread):
    assert api(learner, "learn").delete(f"{API}/posts/{thread.posts[0].id}").status_code == 204
    assert_problem(api(learner, "read").get(f"{API}/threads/{thread.id}"), 404)


def test_only_the_author_or_a_moderator_deletes(api, moderator, classmate, creator, thread, course):
    enroll(classmate, course)
    post = reply_as(classmate, thread, "Mine")
    assert_problem(api(creator, "learn").delete(f"{API}/posts/{post.id}"), 403)
    assert api(moderator, "learn").delete(f"{API}/posts/{post.id}").status_code == 204


# --- votes, answers, reports -----------------------------------------------------------------

def test_upvoting_and_taking_it_back(api, learner, classmate, thread, course):
    enroll(classmate, course)
    post = thread.posts[0]
    caller = api(classmate, "learn")
    assert caller.post(f"{API}/posts/{post.id}/vote").get_json() == {"post_id": post.id, "voted": True, "votes": 1}
    assert api(classmate, "read").get(f"{API}/threads/{thread.id}").get_json()["posts"][0]["voted"] is True
    assert caller.post(f"{API}/posts/{post.id}/vote").get_json() == {"post_id": post.id, "voted": False, "votes": 0}
    assert_problem(api(learner, "learn").post(f"{API}/posts/{post.id}/vote"), 403)  # not my own post


def test_the_creator_marks_and_clears_the_answer(api, learner, creator, thread):
    answer = reply_as(creator, thread, "Five minutes.")
    assert_problem(api(learner, "learn").post(f"{API}/posts/{answer.id}/answer"), 403)
    body = api(creator, "learn").post(f"{API}/posts/{answer.id}/answer").get_json()
    assert body["answered"] and body["posts"][1]["is_answer"]
    assert_problem(api(creator, "learn").post(f"{API}/posts/{thread.posts[0].id}/answer"), 422)  # the question
    assert_problem(api(learner, "learn").delete(f"{API}/threads/{thread.id}/answer"), 403)
    assert api(creator, "learn").delete(f"{API}/threads/{thread.id}/answer").get_json()["answered"] is False


def test_reporting_a_post_stores_one_report(api, classmate, thread, course):
    enroll(classmate, course)
    url = f"{API}/posts/{thread.posts[0].id}/report"
    assert api(classmate, "learn").post(url, json={"reason": "Off topic"}).status_code == 204
    assert api(classmate, "learn").post(url, json={"reason": "Off topic"}).status_code == 204
    assert count(Report, Report.target_type == "discussion_post") == 1
    assert_problem(api(classmate, "learn").post(url, json={"reason": "  "}), 422)
    assert_problem(api(classmate, "learn").post(url, json={}), 422)
