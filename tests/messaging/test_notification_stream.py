"""Live notifications: every stored notification is published on its user's channel, and
`/notifications/stream` relays it as a toast plus the unread badge, resumably (issue #7.4)."""
from __future__ import annotations

import contextvars
import json
import re
import time
from dataclasses import dataclass

import pytest
from flask import Flask

from app.dbtypes import utcnow
from app.extensions import db
from app.messaging import channels
from app.messaging.bus import bus, publish_now
from app.messaging.notifications import notify
from app.messaging.transport.sse import SSEEvent

STREAM = "/notifications/stream"


# --- reading a stream through the test client ----------------------------------------------

@dataclass
class Frame:
    event: str | None = None
    id: str | None = None
    data: str = ""
    comment: str | None = None
    retry: str | None = None


def parse(chunk: str) -> Frame:
    frame, data = Frame(), []
    for line in chunk.strip("\n").split("\n"):
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "":
            frame.comment = value
        elif field == "data":
            data.append(value)
        elif field in ("event", "id", "retry"):
            setattr(frame, field, value)
    frame.data = "\n".join(data)
    return frame


class Stream:
    """An open SSE response read frame by frame. The stream's generator pushes its request
    context while it runs, so it runs in a context of its own, not the test's."""

    def __init__(self, client, url: str, **kwargs):
        self._context = contextvars.copy_context()
        # The test client already reads the first chunk (so the generator starts) here.
        self.response = self._context.run(client.get, url, buffered=False, **kwargs)
        self.status_code = self.response.status_code
        self._chunks = iter(self.response.response)
        self.ended = False

    def next_frame(self, timeout: float = 5.0) -> Frame | None:
        """The next frame (heartbeats included); None once the server ended the stream."""
        deadline = time.monotonic() + timeout
        buffer = ""
        while time.monotonic() < deadline:
            try:
                chunk = self._context.run(next, self._chunks)
            except StopIteration:
                self.ended = True
                return None
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            if buffer.endswith("\n\n"):
                return parse(buffer)
        raise AssertionError("no frame from the stream in time")

    def until_idle(self, timeout: float = 5.0) -> list[Frame]:
        """The frames (heartbeats and `retry:` left out) sent before the next heartbeat."""
        frames = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.next_frame(timeout)
            if frame is None or frame.comment == "heartbeat":
                return frames
            if frame.retry is None:
                frames.append(frame)
        raise AssertionError("the stream never went idle")

    def close(self) -> None:
        self._context.run(self.response.close)


@pytest.fixture
def open_stream(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    opened: list[Stream] = []

    def do_open(url: str = STREAM, on=None, **kwargs) -> Stream:
        stream = Stream(on or client, url, **kwargs)
        opened.append(stream)
        return stream

    yield do_open
    for stream in opened:
        stream.close()


@pytest.fixture
def signed_in(login, learner):
    return login(learner)


def notes_for(user, count: int) -> list[int]:
    made = [notify(user, "welcome", name=f"Lena {n}") for n in range(count)]
    db.session.commit()
    return [note.id for note in made]


def ids(frames: list[Frame]) -> list[int]:
    assert all(frame.event == "notification" for frame in frames), frames
    return [int(frame.id) for frame in frames]


def badge(frame: Frame) -> str:
    match = re.search(r'<span id="unread-badge"[^>]*hx-swap-oob="true"[^>]*>(.*)</span>', frame.data, re.S)
    assert match, f"no out-of-band badge in {frame.data!r}"
    return re.sub(r"<[^>]+>", "", match.group(1))


# --- publishing -------------------------------------------------------------------------------

def test_a_stored_notification_is_published_on_its_users_channel(db, learner):
    with bus().subscribe([channels.user_notify(learner.id)]) as sub:
        first = notify(learner, "welcome", name="Lena")
        db.session.commit()
        event = sub.get(timeout=5)
        html = event.pop("html")  # rendered once here, relayed as is to every open page
        assert event == {
            "type": "notification", "id": first.id, "kind": "welcome", "label": "Welcome",
            "text": "Welcome to Lyceum, Lena! Browse courses to learn, or create your own to teach.",
            "url": "/dashboard", "unread": 1, "created_at": first.created_at.isoformat()}
        assert f'id="toast-{first.id}"' in html and 'id="unread-badge"' in html
        second = notify(learner, "welcome", name="Lena")
        db.session.commit()
        event = sub.get(timeout=5)
        assert (event["id"], event["unread"]) == (second.id, 2)


def test_nothing_is_published_before_commit_nor_after_a_rollback(db, learner):
    with bus().subscribe([channels.user_notify(learner.id)]) as sub:
        notify(learner, "welcome", name="Lena")
        assert sub.get(timeout=0.3) is None
        db.session.rollback()
        db.session.commit()
        assert sub.get(timeout=0.5) is None


def test_only_the_recipients_channel_hears_it(db, learner, creator):
    with bus().subscribe([channels.user_notify(creator.id)]) as sub:
        notify(learner, "welcome", name="Lena")
        db.session.commit()
        assert sub.get(timeout=0.5) is None


def test_a_link_is_built_inside_a_request(app, db, learner):
    with bus().subscribe([channels.user_notify(learner.id)]) as sub, app.test_request_context("/"):
        notify(learner, "course.updated", title="Python", lesson_title="Loops", course_id=7)
        db.session.commit()
        event = sub.get(timeout=5)
    assert event["url"] == "/learn/7" and event["text"] == "New lesson in “Python”: Loops."


def test_outside_a_request_the_event_comes_without_a_link(app, db, learner):
    """An RQ job has no request and (here) no SERVER_NAME, so url_for cannot build a link."""
    assert app.config["SERVER_NAME"] is None
    with bus().subscribe([channels.user_notify(learner.id)]) as sub:
        notify(learner, "course.updated", title="Python", lesson_title="Loops", course_id=7)
        db.session.commit()
        event = sub.get(timeout=5)
    assert event["url"] is None and event["label"] == "Course updated"


# --- the stream -------------------------------------------------------------------------------

def test_stream_is_an_event_stream_that_is_never_cached(signed_in, open_stream):
    stream = open_stream()
    assert stream.status_code == 200
    assert stream.response.mimetype == "text/event-stream"
    assert stream.response.headers["Cache-Control"] == "no-cache, no-transform"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    assert stream.next_frame().retry == "3000"


def test_a_new_notification_arrives_as_a_toast_with_the_badge(db, learner, signed_in, open_stream):
    stream = open_stream()
    assert stream.until_idle() == []  # nothing yet, and the stream is waiting
    note = notify(learner, "welcome", name="Lena")
    db.session.commit()
    (frame,) = stream.until_idle()
    assert (frame.event, frame.id) == ("notification", str(note.id))
    assert 'class="toast"' in frame.data and "data-toast-close" in frame.data
    assert "Welcome" in frame.data and "Welcome to Lyceum, Lena!" in frame.data
    assert '<a href="/dashboard">' in frame.data
    assert badge(frame) == ", 1 unread"


def test_the_toast_escapes_what_users_wrote(db, learner, signed_in, open_stream):
    stream = open_stream()
    stream.until_idle()
    notify(learner, "welcome", name='<script>alert("x")</script>')
    db.session.commit()
    (frame,) = stream.until_idle()
    assert "<script>" not in frame.data and "&lt;script&gt;" in frame.data


def test_other_users_notifications_never_reach_my_stream(db, learner, creator, signed_in, open_stream):
    stream = open_stream()
    stream.until_idle()
    notify(creator, "welcome", name="Carl")
    db.session.commit()
    mine = notify(learner, "welcome", name="Lena")
    db.session.commit()
    assert ids(stream.until_idle()) == [mine.id]


def test_each_notification_is_sent_once_even_when_backlog_and_bus_both_have_it(
        db, learner, signed_in, open_stream):
    stream = open_stream(f"{STREAM}?after=0")
    note = notify(learner, "welcome", name="Lena")  # after subscribing, before the backlog loads
    db.session.commit()
    assert ids(stream.until_idle()) == [note.id]
    assert stream.until_idle() == []


def test_resume_after_last_event_id_gets_exactly_the_missed_ones(db, learner, signed_in, open_stream):
    first, *missed = notes_for(learner, 3)
    stream = open_stream(headers={"Last-Event-ID": str(first)})
    assert ids(stream.until_idle()) == missed
    later = notify(learner, "welcome", name="Lena")
    db.session.commit()
    assert ids(stream.until_idle()) == [later.id]


def test_the_backlog_toasts_carry_the_current_unread_count(db, learner, signed_in, open_stream):
    first, *_missed = notes_for(learner, 3)
    frames = open_stream(headers={"Last-Event-ID": str(first)}).until_idle()
    assert [badge(frame) for frame in frames] == [", 3 unread", ", 3 unread"]


def test_after_in_the_query_string_resumes_too(db, learner, signed_in, open_stream):
    notes = notes_for(learner, 3)
    assert ids(open_stream(f"{STREAM}?after={notes[1]}").until_idle()) == [notes[2]]


def test_the_header_wins_over_the_query_string(db, learner, signed_in, open_stream):
    notes = notes_for(learner, 3)
    stream = open_stream(f"{STREAM}?after={notes[0]}", headers={"Last-Event-ID": str(notes[1])})
    assert ids(stream.until_idle()) == [notes[2]]


def test_the_backlog_is_capped_at_the_newest_fifty(db, learner, signed_in, open_stream):
    notes = notes_for(learner, 53)
    assert ids(open_stream(f"{STREAM}?after=0").until_idle()) == notes[-50:]


@pytest.mark.parametrize("bad", ["abc", "-5", "1.5", "", " ", "99999999999999999999999999",
                                 str(2**63), "0x10"])
def test_an_invalid_last_event_id_starts_fresh(db, learner, signed_in, open_stream, bad):
    notes_for(learner, 2)
    stream = open_stream(headers={"Last-Event-ID": bad})
    assert stream.status_code == 200
    assert stream.until_idle() == []  # nothing replayed
    note = notify(learner, "welcome", name="Lena")
    db.session.commit()
    assert ids(stream.until_idle()) == [note.id]


def test_an_id_above_my_newest_notification_starts_fresh(db, learner, creator, signed_in, open_stream):
    """Not one of my ids (another user's, or made up): taking it as a position would hide
    every notification I get until my ids pass it."""
    mine = notes_for(learner, 1)[0]
    stream = open_stream(headers={"Last-Event-ID": str(mine + 10_000)})
    assert stream.until_idle() == []
    note = notify(learner, "welcome", name="Lena")
    db.session.commit()
    assert ids(stream.until_idle()) == [note.id]


def test_session_end_closes_the_stream(db, learner, signed_in, open_stream):
    stream = open_stream()
    stream.until_idle()
    publish_now(channels.user_notify(learner.id), {"type": "session.end"})
    deadline = time.monotonic() + 5
    while not stream.ended and time.monotonic() < deadline:
        stream.next_frame()
    assert stream.ended


def test_bus_shutdown_ends_the_stream(app, db, learner, signed_in, open_stream):
    stream = open_stream()
    stream.until_idle()
    assert bus().subscriber_count() >= 1
    for sub in list(bus()._local.get(channels.user_notify(learner.id), ())):
        sub.put({"type": "bus.closed"})
    assert stream.next_frame() is None and stream.ended


def test_a_resync_reloads_what_was_missed(db, learner, signed_in, open_stream):
    """After the bus lost Redis (events may be lost), the stream reloads from the database."""
    stream = open_stream()
    stream.until_idle()
    note = notify(learner, "welcome", name="Lena")
    db.session.flush()  # stored, but nothing published: as if Redis had dropped it
    db.session.info.pop("lyceum.on_commit", None)
    db.session.commit()
    for sub in list(bus()._local.get(channels.user_notify(learner.id), ())):
        sub.put({"type": "bus.resync"})
    assert ids(stream.until_idle()) == [note.id]


def test_unknown_events_on_the_channel_are_ignored(db, learner, signed_in, open_stream):
    stream = open_stream()
    stream.until_idle()
    publish_now(channels.user_notify(learner.id), {"type": "something.else", "id": 5})
    publish_now(channels.user_notify(learner.id), {"type": "notification", "id": "5"})
    assert stream.until_idle() == []
    assert not stream.ended


def test_heartbeats_keep_an_idle_stream_open(signed_in, open_stream):
    stream = open_stream()
    frames = [stream.next_frame() for _ in range(4)]
    assert frames[0].retry == "3000"
    assert [frame.comment for frame in frames[1:]] == ["heartbeat"] * 3


def test_the_stream_lets_go_of_its_subscription_when_closed(db, learner, signed_in, open_stream):
    channel = channels.user_notify(learner.id)
    stream = open_stream()
    stream.until_idle()
    assert bus()._local.get(channel)
    stream.close()
    assert not bus()._local.get(channel)


def test_anonymous_visitors_are_refused_without_a_redirect(client, htmx):
    for resp in (client.get(STREAM), htmx.get(STREAM),
                 client.get(STREAM, headers={"Last-Event-ID": "1"})):
        assert resp.status_code == 401
        assert resp.mimetype == "text/plain" and "Location" not in resp.headers


def test_a_suspended_users_stream_is_refused(db, learner, signed_in, client):

    learner.suspended_at, learner.suspension_reason = utcnow(), "spam"
    db.session.commit()
    assert client.get(STREAM).status_code == 401


def test_two_browsers_of_one_user_both_get_it(app, db, learner, login, open_stream):
    first, second = app.test_client(), app.test_client()
    login(learner, on=first)
    login(learner, on=second)
    streams = [open_stream(on=first), open_stream(on=second)]
    for stream in streams:
        stream.until_idle()
    note = notify(learner, "welcome", name="Lena")
    db.session.commit()
    assert [ids(stream.until_idle()) for stream in streams] == [[note.id], [note.id]]


@pytest.mark.real_services
def test_an_event_published_by_another_process_reaches_the_stream(app: Flask, db, learner, signed_in,
                                                                   open_stream):
    """Real Redis: a publisher with its own connection (as another web process or a worker
    would be) reaches this process's stream."""
    import redis

    stream = open_stream()
    stream.until_idle()
    other = redis.Redis.from_url(app.config["REDIS_URL"])
    event = {"type": "notification", "id": 10**9, "kind": "welcome", "label": "Welcome",
             "text": "From elsewhere", "url": None, "unread": 4}
    assert other.publish(channels.user_notify(learner.id), json.dumps(event)) >= 1
    (frame,) = stream.until_idle()
    assert frame.id == str(10**9) and "From elsewhere" in frame.data and badge(frame) == ", 4 unread"
    other.close()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/x", "data:text/html,x"])
def test_a_link_that_is_not_ours_is_not_rendered(db, learner, signed_in, open_stream, url):
    stream = open_stream()
    stream.until_idle()
    publish_now(channels.user_notify(learner.id), {
        "type": "notification", "id": 10**9, "kind": "welcome", "label": "Welcome",
        "text": "Hello", "url": url, "unread": 1})
    (frame,) = stream.until_idle()
    assert "Hello" in frame.data and "href" not in frame.data


@pytest.mark.parametrize(("html", "data_lines"), [
    ("<p>one</p>", ["<p>one</p>"]),
    ("<p>\n  two\n</p>\n", ["<p>", "  two", "</p>"]),  # one trailing line end dropped
    ("a\r\nb\rc\n\n", ["a", "b", "c", ""]),  # CR, LF and CRLF all end a line (the SSE grammar)
    ("", [""]),
    ("line\u2028same line", ["line\u2028same line"]),  # not a line end in SSE
])
def test_an_event_is_framed_with_one_data_line_per_line(html, data_lines):

    framed = SSEEvent("notification", html, id=7).encode()
    assert framed.endswith("\n\n") and "\r" not in framed
    lines = framed[:-2].split("\n")
    assert lines[:2] == ["event: notification", "id: 7"]
    assert lines[2:] == [f"data: {line}" for line in data_lines]
    assert SSEEvent("receipt", html).encode().split("\n")[1].startswith("data: ")  # no id line
