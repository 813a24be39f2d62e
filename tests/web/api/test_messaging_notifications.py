"""/api/v1/notifications: my notifications, marking them read, and the live stream as a token
holder gets it (its behaviour against a real server: tests/messaging/test_live_connections.py)."""
from __future__ import annotations

import contextvars
import json

import pytest

from app.extensions import db
from app.messaging.models import Notification
from app.messaging.notifications import notify
from tests.support.api import assert_problem


def notes_for(user, count: int) -> list[int]:
    made = [notify(user, "welcome", name=f"Lena {n}") for n in range(count)]
    db.session.commit()
    return [note.id for note in made]


# --- the list ------------------------------------------------------------------------------------

def test_my_notifications_newest_first_a_page_at_a_time(api, learner, make_user):
    ids = notes_for(learner, 5)
    notes_for(make_user(), 2)  # someone else's
    caller = api(learner, "read")
    first = caller.get("/api/v1/notifications?limit=3")
    assert first.status_code == 200
    body = first.get_json()
    assert [item["id"] for item in body["items"]] == ids[::-1][:3]
    assert body["unread_count"] == 5
    item = body["items"][0]
    assert item["kind"] == "welcome" and item["label"] == "Welcome" and "Lena 4" in item["text"]
    assert item["url"] == "/dashboard" and item["read_at"] is None and item["created_at"].endswith("Z")
    rest = caller.get(f"/api/v1/notifications?limit=3&cursor={body['next_cursor']}").get_json()
    assert [item["id"] for item in rest["items"]] == ids[::-1][3:]
    assert rest["next_cursor"] is None


def test_the_list_refuses_bad_input(api, learner):
    caller = api(learner, "read")
    for query in ("limit=0", "limit=101", "limit=x", "cursor=forged", "unknown=1"):
        assert_problem(caller.get(f"/api/v1/notifications?{query}"), 422)


def test_a_cursor_of_another_list_is_refused(api, learner):
    caller = api(learner, "read")
    notes_for(learner, 3)
    cursor = caller.get("/api/v1/notifications?limit=1").get_json()["next_cursor"]
    assert_problem(caller.get(f"/api/v1/conversations?cursor={cursor}"), 422)


def test_the_list_needs_a_token_with_read(anonymous, api, learner):
    assert_problem(anonymous.get("/api/v1/notifications"), 401)
    resp = api(learner, "learn").get("/api/v1/notifications")
    assert_problem(resp, 403)
    assert 'scope="read"' in resp.headers["WWW-Authenticate"]


# --- marking read ---------------------------------------------------------------------------------

def test_marking_one_read(api, learner):
    first, second = notes_for(learner, 2)
    caller = api(learner, "learn")
    resp = caller.post(f"/api/v1/notifications/{first}/read")
    assert resp.status_code == 200
    assert resp.get_json()["id"] == first and resp.get_json()["read_at"].endswith("Z")
    assert db.session.get(Notification, first).read_at is not None
    assert db.session.get(Notification, second).read_at is None
    again = caller.post(f"/api/v1/notifications/{first}/read")  # changes nothing
    assert again.get_json()["read_at"] == resp.get_json()["read_at"]


def test_another_users_notification_is_not_found(api, learner, make_user):
    theirs, = notes_for(make_user(), 1)
    caller = api(learner, "learn")
    body = assert_problem(caller.post(f"/api/v1/notifications/{theirs}/read"), 404)
    assert body["detail"] == assert_problem(caller.post("/api/v1/notifications/987654/read"), 404)["detail"]
    assert db.session.get(Notification, theirs).read_at is None


def test_marking_needs_a_token_with_learn(anonymous, api, learner):
    note, = notes_for(learner, 1)
    assert_problem(anonymous.post(f"/api/v1/notifications/{note}/read"), 401)
    assert_problem(api(learner, "read").post(f"/api/v1/notifications/{note}/read"), 403)
    assert_problem(anonymous.post("/api/v1/notifications/read-all"), 401)
    assert_problem(api(learner, "read").post("/api/v1/notifications/read-all"), 403)


def test_a_bad_notification_id_is_not_found(api, learner):
    caller = api(learner, "learn")
    for bad in ("abc", "-1", "99999999999999999999"):
        assert caller.post(f"/api/v1/notifications/{bad}/read").status_code == 404


def test_marking_all_read(api, learner, make_user):
    notes_for(learner, 3)
    theirs, = notes_for(make_user(), 1)
    resp = api(learner, "learn").post("/api/v1/notifications/read-all")
    assert resp.status_code == 200 and resp.get_json() == {"marked": 3, "unread_count": 0}
    assert db.session.get(Notification, theirs).read_at is None
    assert api(learner, "read").get("/api/v1/notifications").get_json()["unread_count"] == 0


# --- the stream (through the test client: what it sends first; live: tests/messaging) -------------

class Stream:
    """A streamed response read chunk by chunk; its generator pushes its own request context,
    so it runs in a context of its own."""

    def __init__(self, caller, url: str, **kwargs):
        self.context = contextvars.copy_context()
        self.response = self.context.run(caller.get, url, buffered=False, **kwargs)
        self.chunks = iter(self.response.response)

    def events(self, count: int) -> list[dict]:
        found = []
        while len(found) < count:
            chunk = self.context.run(next, self.chunks)
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            if text.startswith("event: notification"):
                lines = dict(line.split(": ", 1) for line in text.strip().split("\n"))
                found.append({"id": int(lines["id"]), **json.loads(lines["data"])})
        return found

    def close(self):
        self.context.run(self.response.close)


@pytest.fixture
def stream(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    opened = []

    def open_stream(caller, url="/api/v1/notifications/stream", **kwargs):
        opened.append(Stream(caller, url, **kwargs))
        return opened[-1]

    yield open_stream
    for item in opened:
        item.close()


def test_the_stream_sends_what_was_missed_as_json(api, learner, stream):
    first, second, third = notes_for(learner, 3)
    opened = stream(api(learner, "read"), headers={"Last-Event-ID": str(first)})
    assert opened.response.status_code == 200
    assert opened.response.mimetype == "text/event-stream"
    assert opened.response.headers["Cache-Control"] == "no-cache, no-transform"
    events = opened.events(2)
    assert [event["id"] for event in events] == [second, third]
    note = events[0]["notification"]
    assert note["id"] == second and note["kind"] == "welcome" and "Lena 1" in note["text"]
    assert note["created_at"].endswith("Z") and events[0]["unread_count"] == 3


def test_the_stream_resumes_after_a_query_id(api, learner, stream):
    first, second = notes_for(learner, 2)
    opened = stream(api(learner, "read"), url=f"/api/v1/notifications/stream?after={first}")
    assert [event["id"] for event in opened.events(1)] == [second]


def test_the_stream_needs_a_token_with_read_and_a_readable_position(anonymous, api, learner):
    assert_problem(anonymous.get("/api/v1/notifications/stream"), 401)
    assert_problem(api(learner, "learn").get("/api/v1/notifications/stream"), 403)
    for after in ("x", "-1", str(2**63)):
        assert_problem(api(learner, "read").get(f"/api/v1/notifications/stream?after={after}"), 422)


def test_the_stream_is_documented_as_an_event_stream(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/notifications/stream"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"text/event-stream"}
    assert "stream-closed" in operation["responses"]["200"]["description"]
    assert operation["security"] == [{"bearer": []}, {"oauth2": ["read"]}]
