"""/api/v1/conversations: my direct messages through the same service as the pages: the inbox,
a conversation's messages, starting one, sending (blocks, suspensions, the flood limit) and
marking read; another user's conversation is a 404."""
from __future__ import annotations

import pytest

from app.dbtypes import utcnow
from app.extensions import db
from app.messaging import direct
from app.messaging.models import DirectMessage, Notification
from tests.support.api import assert_problem


@pytest.fixture
def bob(make_user):
    return make_user(email="bob@example.test", display_name="Bob Buddy")


@pytest.fixture
def chat(learner, bob):
    conversation = direct.conversation_with(learner, bob)
    db.session.commit()
    return conversation


def say(user, conversation, body="Hello") -> DirectMessage:
    msg = direct.send_direct_message(user, conversation, body)
    db.session.commit()
    return msg


def messages_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.id}/messages"


@pytest.fixture
def strangers(make_user):
    """A conversation between two other users."""
    conversation = direct.conversation_with(make_user(), make_user())
    db.session.commit()
    say(conversation.user_low, conversation, "not for you")
    return conversation


# --- the inbox ----------------------------------------------------------------------------------

def test_my_conversations_latest_first_with_unread_counts(api, learner, bob, chat, make_user, strangers):
    carol = make_user(display_name="Carol")
    with_carol = direct.conversation_with(learner, carol)
    db.session.commit()
    say(bob, chat, "Are you there?")
    say(learner, with_carol, "Hi Carol")
    say(bob, chat, "Hello?")
    caller = api(learner, "read")
    first = caller.get("/api/v1/conversations?limit=1").get_json()
    row = first["items"][0]
    assert row["id"] == chat.id and row["unread"] == 2
    assert row["other"] == {"id": bob.id, "display_name": "Bob Buddy", "headline": bob.headline or ""}
    last = row["last_message"]
    assert last["body"] == "Hello?" and last["sender"]["id"] == bob.id and last["read"] is False
    rest = caller.get(f"/api/v1/conversations?limit=1&cursor={first['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == [with_carol.id]
    assert rest["items"][0]["unread"] == 0 and rest["next_cursor"] is None  # strangers' is not mine


def test_the_inbox_refuses_bad_input(api, learner):
    for query in ("limit=0", "limit=1000", "cursor=nope"):
        assert_problem(api(learner, "read").get(f"/api/v1/conversations?{query}"), 422)


def test_the_inbox_needs_a_token_with_read(anonymous, api, learner):
    assert_problem(anonymous.get("/api/v1/conversations"), 401)
    assert_problem(api(learner, "learn").get("/api/v1/conversations"), 403)


# --- a conversation's messages ---------------------------------------------------------------------

def test_a_conversations_messages_newest_first_by_cursor(api, learner, bob, chat):
    sent = [say(bob if n % 2 else learner, chat, f"message {n}").id for n in range(5)]
    caller = api(learner, "read")
    first = caller.get(messages_url(chat) + "?limit=3").get_json()
    assert [item["id"] for item in first["items"]] == sent[::-1][:3]
    item = first["items"][0]
    assert item["body"] == "message 4" and item["sender"]["id"] == learner.id
    assert item["conversation_id"] == chat.id and item["created_at"].endswith("Z") and item["deleted"] is False
    rest = caller.get(messages_url(chat) + f"?limit=3&cursor={first['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == sent[::-1][3:] and rest["next_cursor"] is None
    # reading them here does not mark them read
    assert db.session.get(DirectMessage, sent[1]).read_at is None


def test_messages_refuse_bad_input_and_cursors_of_another_conversation(api, learner, bob, chat, make_user):
    other = direct.conversation_with(learner, make_user())
    db.session.commit()
    for n in range(3):
        say(bob, chat, f"m{n}")
    caller = api(learner, "read")
    cursor = caller.get(messages_url(chat) + "?limit=1").get_json()["next_cursor"]
    assert_problem(caller.get(messages_url(other) + f"?cursor={cursor}"), 422)
    assert_problem(caller.get(messages_url(chat) + "?limit=-5"), 422)


def test_another_users_conversation_is_not_found(api, learner, strangers):
    caller = api(learner, "read", "learn")
    missing = "/api/v1/conversations/987654"
    for path in (f"/api/v1/conversations/{strangers.id}", missing):
        assert_problem(caller.get(path + "/messages"), 404)
        assert_problem(caller.post(path + "/messages", json={"body": "hi"}), 404)
        assert_problem(caller.post(path + "/read"), 404)
    assert db.session.query(DirectMessage).filter_by(conversation_id=strangers.id).count() == 1


def test_messages_need_a_token_with_read(anonymous, api, learner, chat):
    assert_problem(anonymous.get(messages_url(chat)), 401)
    assert_problem(api(learner, "learn").get(messages_url(chat)), 403)


# --- sending -----------------------------------------------------------------------------------------

def test_sending_a_message(api, learner, bob, chat):
    resp = api(learner, "learn").post(messages_url(chat), json={"body": "  Hello Bob  "})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["body"] == "Hello Bob" and body["sender"]["id"] == learner.id and body["read"] is False
    stored = db.session.get(DirectMessage, body["id"])
    assert stored.recipient_id == bob.id and stored.sender_id == learner.id
    note = db.session.query(Notification).filter_by(user_id=bob.id, kind="dm.received").one()
    assert note.data["preview"] == "Hello Bob"  # as from the page: the recipient is told


@pytest.mark.parametrize("payload", [{"body": ""}, {"body": "   "}, {"body": "x" * 2001}, {}, {"body": 5},
                                     {"body": "hi", "extra": 1}])
def test_sending_refuses_bad_input(api, learner, chat, payload):
    resp = api(learner, "learn").post(messages_url(chat), json=payload)
    assert_problem(resp, 422)
    assert db.session.query(DirectMessage).count() == 0


def test_sending_needs_json(api, learner, chat):
    assert_problem(api(learner, "learn").post(messages_url(chat), data={"body": "hi"}), 415)


def test_sending_needs_a_token_with_learn(anonymous, api, learner, chat):
    assert_problem(anonymous.post(messages_url(chat), json={"body": "hi"}), 401)
    assert_problem(api(learner, "read").post(messages_url(chat), json={"body": "hi"}), 403)


def test_a_block_stops_messages_both_ways(api, learner, bob, chat):
    direct.block(bob, learner)
    db.session.commit()
    body = assert_problem(api(learner, "learn").post(messages_url(chat), json={"body": "hi"}), 403)
    assert "blocked" in body["detail"]
    assert_problem(api(bob, "learn").post(messages_url(chat), json={"body": "hi"}), 403)
    assert_problem(api(learner, "learn").post("/api/v1/conversations", json={"to": bob.id}), 403)


def test_a_suspended_user_cannot_be_written_to(api, learner, bob, chat):
    bob.suspended_at = utcnow()
    bob.suspension_reason = "spam"
    db.session.commit()
    body = assert_problem(api(learner, "learn").post(messages_url(chat), json={"body": "hi"}), 403)
    assert "suspended" in body["detail"]


def test_sending_too_fast_is_a_429_with_the_wait(app, api, learner, chat, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_COUNT", 2)
    monkeypatch.setitem(app.config, "MESSAGE_RATE_SECONDS", 10**9)
    caller = api(learner, "learn")
    for n in range(2):
        assert caller.post(messages_url(chat), json={"body": f"m{n}"}).status_code == 201
    resp = caller.post(messages_url(chat), json={"body": "one more"})
    body = assert_problem(resp, 429)
    assert "too fast" in body["detail"] and int(resp.headers["Retry-After"]) > 0
    assert db.session.query(DirectMessage).count() == 2


# --- starting a conversation ------------------------------------------------------------------------

def test_starting_a_conversation_makes_it_once(api, learner, bob):
    caller = api(learner, "learn")
    first = caller.post("/api/v1/conversations", json={"to": bob.id})
    assert first.status_code == 200
    body = first.get_json()
    assert body["other"]["id"] == bob.id and body["last_message"] is None and body["unread"] == 0
    again = caller.post("/api/v1/conversations", json={"to": bob.id}).get_json()
    assert again["id"] == body["id"]
    reply = say(bob, direct.access_conversation(bob, body["id"]), "Hi!")
    found = caller.post("/api/v1/conversations", json={"to": bob.id}).get_json()
    assert found["last_message"]["id"] == reply.id and found["unread"] == 1


@pytest.mark.parametrize("payload", [{}, {"to": "bob"}, {"to": 0}, {"to": 2**31}, {"to": 1, "x": 2}])
def test_starting_refuses_bad_input(api, learner, payload):
    assert_problem(api(learner, "learn").post("/api/v1/conversations", json=payload), 422)


def test_starting_one_with_myself_is_refused(api, learner):
    body = assert_problem(api(learner, "learn").post("/api/v1/conversations", json={"to": learner.id}), 422)
    assert "yourself" in body["detail"]


def test_starting_one_with_nobody_is_not_found(api, learner):
    assert_problem(api(learner, "learn").post("/api/v1/conversations", json={"to": 987654}), 404)


def test_starting_needs_a_token_with_learn(anonymous, api, learner, bob):
    assert_problem(anonymous.post("/api/v1/conversations", json={"to": bob.id}), 401)
    assert_problem(api(learner, "read").post("/api/v1/conversations", json={"to": bob.id}), 403)


# --- marking read --------------------------------------------------------------------------------------

def test_marking_a_conversation_read(api, learner, bob, chat):
    received = [say(bob, chat, f"m{n}") for n in range(2)]
    mine = say(learner, chat, "mine")
    resp = api(learner, "learn").post(f"/api/v1/conversations/{chat.id}/read")
    assert resp.status_code == 200 and resp.get_json() == {"marked": 2}
    db.session.expire_all()
    assert all(db.session.get(DirectMessage, m.id).read_at for m in received)
    assert db.session.get(DirectMessage, mine.id).read_at is None  # bob has not read it
    assert api(learner, "learn").post(f"/api/v1/conversations/{chat.id}/read").get_json() == {"marked": 0}


def test_marking_read_needs_a_token_with_learn(anonymous, api, learner, chat):
    assert_problem(anonymous.post(f"/api/v1/conversations/{chat.id}/read"), 401)
    assert_problem(api(learner, "read").post(f"/api/v1/conversations/{chat.id}/read"), 403)
