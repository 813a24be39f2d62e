"""/api/v1/courses/{id}/chat/messages: a course chat room's history for its members, by the
same membership rules as the room page (the room's socket with a token: tests/messaging)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.learning.enrollment import enroll
from app.messaging import chat, chat_moderation
from tests.support.api import assert_problem


@pytest.fixture
def course(creator, make_course):
    return make_course(creator, title="Practical SQL", status="published")


@pytest.fixture
def member(learner, course):
    enroll(learner, course)
    db.session.commit()
    return learner


def say(actor, course, body="Hello") -> int:
    message = chat.post_message(actor, course, body)
    db.session.commit()
    return message.id


def history_url(course) -> str:
    return f"/api/v1/courses/{course.id}/chat/messages"


def test_a_member_reads_the_history_newest_first_by_cursor(api, member, creator, course):
    ids = [say(member if n % 2 else creator, course, f"message {n}") for n in range(5)]
    caller = api(member, "read")
    first = caller.get(history_url(course) + "?limit=3")
    assert first.status_code == 200
    body = first.get_json()
    assert [item["id"] for item in body["items"]] == ids[::-1][:3]
    newest = body["items"][0]
    assert newest["body"] == "message 4" and newest["author"]["id"] == creator.id
    assert newest["author_is_creator"] is True and newest["created_at"].endswith("Z")
    assert body["items"][1]["author_is_creator"] is False
    rest = caller.get(history_url(course) + f"?limit=3&cursor={body['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == ids[::-1][3:] and rest["next_cursor"] is None


def test_a_deleted_message_keeps_its_place_without_its_text(api, member, course):
    kept, gone = say(member, course, "kept"), say(member, course, "regret")
    chat.delete_message(member, gone)
    db.session.commit()
    items = api(member, "read").get(history_url(course)).get_json()["items"]
    assert [(item["id"], item["body"], item["deleted"]) for item in items] == [(gone, "", True),
                                                                                (kept, "kept", False)]


def test_the_creator_reads_their_rooms_history(api, creator, course, member):
    say(member, course, "hi")
    assert api(creator, "read").get(history_url(course)).status_code == 200


def test_the_history_refuses_bad_input(api, member, course, make_course, creator):
    other = make_course(creator, status="published")
    enroll(member, other)
    db.session.commit()
    for n in range(3):
        say(member, other, f"m{n}")
    caller = api(member, "read")
    cursor = caller.get(history_url(other) + "?limit=1").get_json()["next_cursor"]
    assert_problem(caller.get(history_url(course) + f"?cursor={cursor}"), 422)  # another room's
    for query in ("limit=0", "limit=500", "cursor=forged"):
        assert_problem(caller.get(history_url(course) + f"?{query}"), 422)


def test_the_history_needs_a_token_with_read(anonymous, api, member, course):
    assert_problem(anonymous.get(history_url(course)), 401)
    assert_problem(api(member, "learn").get(history_url(course)), 403)


def test_a_non_member_is_refused_with_the_reason(api, make_user, course):
    body = assert_problem(api(make_user(), "read").get(history_url(course)), 403)
    assert "learners" in body["detail"]


def test_a_banned_member_is_refused(api, member, course, moderator):
    chat_moderation.sanction_user(moderator, course, member, kind="ban", minutes=None, reason="spam")
    db.session.commit()
    body = assert_problem(api(member, "read").get(history_url(course)), 403)
    assert "banned" in body["detail"]


def test_an_unknown_room_is_not_found(api, learner):
    assert_problem(api(learner, "read").get("/api/v1/courses/987654/chat/messages"), 404)
    assert api(learner, "read").get("/api/v1/courses/99999999999/chat/messages").status_code == 404
