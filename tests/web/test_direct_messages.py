"""Direct messages over HTTP: inbox, conversation, sending with and without htmx, bad input,
blocks, every forbidden path by URL and by htmx, and the live stream (SSE)."""
from __future__ import annotations

import itertools
import re

import pytest

from app.dbtypes import utcnow
from app.extensions import db
from app.messaging import channels, direct
from app.messaging.bus import publish_now
from app.messaging.models import Conversation, DirectMessage, Notification
from app.moderation.models import Report
from tests.support.pages import HX, text


@pytest.fixture
def bob(make_user):
    return make_user(email="bob@example.test", display_name="Bob Buddy")


@pytest.fixture
def chat(learner, bob):
    conversation = direct.conversation_with(learner, bob)
    db.session.commit()
    return conversation


def say(user, conversation, body="Hello"):
    msg = direct.send_direct_message(user, conversation, body)
    db.session.commit()
    return msg


def url(conversation) -> str:
    return f"/chat/messages/{conversation.id}"


# --- pages ---------------------------------------------------------------------------------

def test_the_inbox_lists_conversations_with_unread_counts(client, login, learner, bob, chat):
    say(bob, chat, "Are you there?")
    login(learner)
    resp = client.get("/chat/messages")
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body and "Bob Buddy" in body and "Are you there?" in body
    assert f'href="{url(chat)}"' in body
    assert re.search(r'id="dm-badge" class="badge">.*1.*unread', body)  # the header count
    assert 'sse-connect="/chat/messages/stream?after=' in body


def test_the_inbox_by_htmx_is_the_list_only(client, login, learner, bob, chat):
    say(bob, chat, "Ping")
    login(learner)
    resp = client.get("/chat/messages", headers=HX)
    assert resp.status_code == 200
    assert "<html" not in text(resp) and "Ping" in text(resp)


def test_the_inbox_needs_a_log_in(client):
    resp = client.get("/chat/messages")
    assert resp.status_code in (302, 401)


def test_a_conversation_shows_history_and_marks_it_read(client, login, learner, bob, chat):
    first = say(bob, chat, "One")
    say(learner, chat, "Two")
    login(learner)
    resp = client.get(url(chat))
    assert resp.status_code == 200
    body = text(resp)
    assert "<html" in body and body.index("One") < body.index("Two")
    assert f'id="dm-log-{chat.id}"' in body and f'sse-swap="dm-{chat.id}"' in body
    assert '<label for="dm-body">' in body
    db.session.expire_all()
    assert db.session.get(DirectMessage, first.id).read_at is not None
    assert direct.unread_total(learner) == 0


def test_the_sender_sees_sent_then_seen(client, login, other_client, learner, bob, chat):
    msg = say(learner, chat, "Did you read this?")
    login(learner)
    assert f'id="dm-status-{msg.id}" sse-swap="dm-seen-{msg.id}"' in text(client.get(url(chat)))
    assert ">Sent<" in text(client.get(url(chat)))
    login(bob, on=other_client)
    other_client.get(url(chat))  # bob reads it
    body = text(client.get(url(chat)))
    assert f'<small class="dm-status seen" id="dm-status-{msg.id}">Seen</small>' in body
    assert ">Sent<" not in body


def test_a_conversation_by_htmx_is_a_fragment(htmx, login, learner, bob, chat):
    say(bob, chat, "Fragment")
    login(learner)
    resp = htmx.get(url(chat))
    assert resp.status_code == 200 and "<html" not in text(resp) and "Fragment" in text(resp)


def test_load_earlier_pages_back_without_and_with_htmx(client, login, learner, bob, chat):
    ids = [say(bob, chat, f"message {n}").id for n in range(53)]
    login(learner)
    body = text(client.get(url(chat)))
    assert "message 3<" in body and "message 2<" not in body
    earlier = re.search(r'href="(/chat/messages/\d+\?before=(\d+))"', body)
    assert earlier and int(earlier.group(2)) == ids[3]
    page = client.get(earlier.group(1), headers=HX)
    fragment = text(page)
    assert "<html" not in fragment and "message 0<" in fragment and "message 3<" not in fragment
    assert "Load earlier" not in fragment
    assert "message 0<" in text(client.get(earlier.group(1)))  # and as a page


@pytest.mark.parametrize("bad", ["abc", "-1", "99999999999999999999"])
def test_a_bad_before_is_ignored(client, login, learner, chat, bad):
    login(learner)
    assert client.get(url(chat) + f"?before={bad}").status_code == 200


# --- forbidden paths -----------------------------------------------------------------------

def test_someone_elses_conversation_is_forbidden_by_url_and_by_htmx(client, login, chat, make_user):
    say(chat.user_low, chat, "private")
    login(make_user())
    for headers in ({}, HX):
        resp = client.get(url(chat), headers=headers)
        assert resp.status_code == 403 and "private" not in text(resp)
        resp = client.post(url(chat), data={"body": "let me in"}, headers=headers)
        assert resp.status_code == 403
        assert client.post(url(chat) + "/read", headers=headers).status_code == 403
    assert db.session.query(DirectMessage).filter_by(body="let me in").count() == 0


def test_a_conversation_that_does_not_exist_is_404(client, login, learner):
    login(learner)
    assert client.get("/chat/messages/987654").status_code == 404
    assert client.post("/chat/messages/987654", data={"body": "x"}, headers=HX).status_code == 404


def test_reporting_a_message_of_another_conversation_is_forbidden(client, login, chat, make_user):
    msg = say(chat.user_low, chat, "private")
    login(make_user())
    assert client.post(f"/chat/dm/{msg.id}/report", data={"reason": "spam"}).status_code == 403
    assert db.session.query(Report).count() == 0


# --- sending -------------------------------------------------------------------------------

def test_sending_without_javascript_posts_and_redirects(client, login, learner, bob, chat):
    login(learner)
    resp = client.post(url(chat), data={"body": "Hi `Bob`"})
    msg = db.session.query(DirectMessage).one()
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{url(chat)}#dm-{msg.id}")
    assert "<code>Bob</code>" in text(client.get(url(chat)))
    note = db.session.query(Notification).filter_by(user_id=bob.id).one()
    assert note.kind == "dm.received" and note.data["preview"] == "Hi `Bob`"


def test_sending_with_htmx_returns_the_cleared_form_and_the_message(htmx, login, learner, chat):
    login(learner)
    resp = htmx.post(url(chat), data={"body": "Quick one"})
    body = text(resp)
    msg = db.session.query(DirectMessage).one()
    assert resp.status_code == 200 and "<html" not in body
    assert f'hx-swap-oob="beforeend:#dm-log-{chat.id}"' in body and f'id="dm-{msg.id}"' in body
    assert re.search(r'<textarea id="dm-body" name="body" rows="3"></textarea>', body)


def test_html_and_script_in_a_message_are_inert(client, login, learner, bob, chat):
    say(bob, chat, '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))')
    login(learner)
    body = client.get(url(chat)).get_data(as_text=True)
    assert "<script>alert" not in body and "<img" not in body and 'href="javascript:' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # shown as text


@pytest.mark.parametrize("headers", [{}, HX], ids=["form", "htmx"])
def test_a_message_too_long_is_refused_and_the_text_kept(client, login, learner, chat, headers):
    login(learner)
    long = "y" * 2001
    resp = client.post(url(chat), data={"body": long}, headers=headers)
    assert resp.status_code == 422
    body = text(resp)
    assert "Keep messages under 2,000 characters" in body and long in body
    assert db.session.query(DirectMessage).count() == 0


def test_an_empty_message_is_refused(client, login, learner, chat):
    login(learner)
    resp = client.post(url(chat), data={"body": "  "})
    assert resp.status_code == 422 and "Write a message first." in text(resp)


def test_flooding_gets_429_with_the_reason(app, client, login, learner, chat, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_COUNT", 2)
    # One window for the whole test: windows are aligned to the clock, and a test that
    # straddled two (a busy machine) would see its count start again.
    monkeypatch.setitem(app.config, "MESSAGE_RATE_SECONDS", 10**9)
    login(learner)
    for n in range(2):
        assert client.post(url(chat), data={"body": f"m{n}"}).status_code == 302
    resp = client.post(url(chat), data={"body": "m3"}, headers=HX)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "too fast" in text(resp) and "m3" in text(resp)
    assert db.session.query(DirectMessage).count() == 2


# --- starting conversations and blocks -----------------------------------------------------

def test_message_the_creator_starts_then_reuses_a_conversation(client, login, learner, creator):
    login(learner)
    first = client.post("/chat/messages/new", data={"to": creator.id})
    conversation = db.session.query(Conversation).one()
    assert first.status_code == 302 and first.headers["Location"].endswith(url(conversation))
    again = client.post("/chat/messages/new", data={"to": creator.id}, headers=HX)
    assert again.status_code == 204 and again.headers["HX-Redirect"] == url(conversation)
    assert db.session.query(Conversation).count() == 1


def test_the_creator_page_has_a_message_button_for_others_only(client, login, learner, creator):
    button = 'action="/chat/messages/new"'
    assert button not in text(client.get(f"/creators/{creator.id}"))  # signed out
    login(creator)
    assert button not in text(client.get(f"/creators/{creator.id}"))  # their own page
    login(learner)
    body = text(client.get(f"/creators/{creator.id}"))
    assert button in body and f'name="to" value="{creator.id}"' in body


@pytest.mark.parametrize("to, status", [("abc", 422), ("", 422), ("987654", 404)])
def test_starting_with_a_bad_recipient_is_a_clear_error(client, login, learner, to, status):
    login(learner)
    assert client.post("/chat/messages/new", data={"to": to}).status_code == status


def test_nobody_starts_a_conversation_with_themselves(client, login, learner):
    login(learner)
    resp = client.post("/chat/messages/new", data={"to": learner.id})
    assert resp.status_code == 422 and "yourself" in text(resp)


def test_a_suspended_user_cannot_be_written_to(client, login, learner, bob):
    bob.suspended_at = utcnow()
    db.session.commit()
    login(learner)
    resp = client.post("/chat/messages/new", data={"to": bob.id})
    assert resp.status_code == 403 and "suspended" in text(resp)


def test_block_and_unblock(client, login, other_client, learner, bob, chat):
    login(bob, on=other_client)
    resp = other_client.post(f"/chat/users/{learner.id}/block", data={"conversation_id": chat.id})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url(chat))
    page = text(other_client.get(url(chat)))
    assert "Unblock Lena Learner" in page and 'id="dm-body"' not in page
    login(learner)
    for headers in ({}, HX):
        resp = client.post(url(chat), data={"body": "hello?"}, headers=headers)
        assert resp.status_code == 403 and "blocked" in text(resp)
    assert client.post("/chat/messages/new", data={"to": bob.id}).status_code == 403
    assert "You cannot message Bob Buddy" in text(client.get(url(chat)))
    # only the blocker lifts it
    client.post(f"/chat/users/{bob.id}/unblock")
    assert direct.is_blocked_between(learner, bob)
    other_client.post(f"/chat/users/{learner.id}/unblock", data={"conversation_id": chat.id})
    assert not direct.is_blocked_between(learner, bob)
    assert client.post(url(chat), data={"body": "hello!"}).status_code == 302


def test_blocking_oneself_or_nobody_is_refused(client, login, learner):
    login(learner)
    assert client.post(f"/chat/users/{learner.id}/block").status_code == 403
    assert client.post("/chat/users/987654/block").status_code == 404


def test_the_recipient_reports_a_message(client, login, learner, bob, chat):
    msg = say(bob, chat, "rude")
    login(learner)
    assert f'action="/chat/dm/{msg.id}/report"' in text(client.get(url(chat)))
    resp = client.post(f"/chat/dm/{msg.id}/report", data={"reason": ""})
    assert resp.status_code == 422 and "Tell the moderators" in text(resp)
    resp = client.post(f"/chat/dm/{msg.id}/report", data={"reason": "rude"})
    assert resp.status_code == 302
    report = db.session.query(Report).one()
    assert (report.target_type, report.target_id, report.reporter_id) == ("direct_message", msg.id, learner.id)


def test_a_message_removed_by_a_moderator_shows_as_removed(client, login, learner, bob, chat, moderator):
    msg = say(bob, chat, "nasty words")
    direct.moderator_delete(moderator, msg.id, reason="abuse")
    db.session.commit()
    login(learner)
    body = text(client.get(url(chat)))
    assert "nasty words" not in body and "Message removed by a moderator." in body


# --- the live stream -----------------------------------------------------------------------

def read_until(resp, needle: str, *, rounds: int = 60) -> str:
    """Chunks of a streamed response until `needle` shows up (heartbeats keep it moving)."""
    seen = ""
    chunks = iter(resp.response)
    for _ in range(rounds):
        chunk = next(chunks)
        seen += chunk.decode() if isinstance(chunk, bytes) else chunk
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} not in stream:\n{seen}")


@pytest.fixture
def fast_heartbeat(app, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.05)


def test_the_stream_needs_a_log_in(client):
    assert client.get("/chat/messages/stream").status_code in (302, 401)


def test_a_message_sent_after_the_stream_opens_arrives(client, login, learner, bob, chat, fast_heartbeat):
    login(learner)
    resp = client.get("/chat/messages/stream?after=0", buffered=False)
    try:
        assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
        msg = say(bob, chat, "Live <b>hello</b>")
        seen = read_until(resp, f"id: {msg.id}")
        assert f"event: dm-{chat.id}" in seen and "event: dm-badge" in seen
        assert "Live &lt;b&gt;hello&lt;/b&gt;" in seen and "<b>hello" not in seen
        assert f'hx-post="/chat/messages/{chat.id}/read" hx-trigger="load"' in seen
    finally:
        resp.close()


def test_a_read_receipt_reaches_the_sender(client, login, learner, bob, chat, fast_heartbeat):
    msg = say(learner, chat, "Read me")
    login(learner)
    resp = client.get(f"/chat/messages/stream?after={msg.id}", buffered=False)
    try:
        direct.mark_read(bob, chat)
        db.session.commit()
        seen = read_until(resp, f"event: dm-seen-{msg.id}")
        assert f'id="dm-status-{msg.id}">Seen' in seen
    finally:
        resp.close()


def test_resuming_gets_exactly_the_missed_messages(client, login, learner, bob, chat, fast_heartbeat):
    seen_before = say(bob, chat, "before")
    missed = [say(bob, chat, "missed one"), say(learner, chat, "missed two")]
    login(learner)
    resp = client.get("/chat/messages/stream", headers={"Last-Event-ID": str(seen_before.id)},
                      buffered=False)
    try:
        seen = read_until(resp, f"id: {missed[-1].id}")
        assert re.findall(r"^id: (\d+)$", seen, re.M) == [str(m.id) for m in missed]
        assert "before" not in seen
        later = say(bob, chat, "after")
        seen = read_until(resp, f"id: {later.id}")
        assert re.findall(r"^id: (\d+)$", seen, re.M) == [str(later.id)]
    finally:
        resp.close()


@pytest.mark.parametrize("last", ["garbage", "-5", "1" * 40])
def test_an_invalid_last_event_id_starts_fresh(client, login, learner, bob, chat, fast_heartbeat, last):
    say(bob, chat, "old news")
    login(learner)
    resp = client.get("/chat/messages/stream", headers={"Last-Event-ID": last}, buffered=False)
    try:
        assert resp.status_code == 200
        fresh = say(bob, chat, "fresh")
        seen = read_until(resp, f"id: {fresh.id}")
        assert "old news" not in seen
    finally:
        resp.close()


def test_the_stream_sends_only_my_messages(client, login, learner, chat, make_user, fast_heartbeat):
    others = direct.conversation_with(make_user(), make_user())
    db.session.commit()
    login(learner)
    resp = client.get("/chat/messages/stream?after=0", buffered=False)
    try:
        say(others.user_low, others, "not for Lena")
        mine = say(chat.other(learner.id), chat, "for Lena")
        seen = read_until(resp, f"id: {mine.id}")
        assert "not for Lena" not in seen
    finally:
        resp.close()


def test_the_inbox_stream_refreshes_the_list(client, login, learner, bob, chat, fast_heartbeat):
    login(learner)
    resp = client.get("/chat/messages/stream?after=0&inbox=1", buffered=False)
    try:
        msg = say(bob, chat, "Inbox news")
        seen = read_until(resp, f"id: {msg.id}")
        inbox_event = seen[seen.index("event: dm-inbox"):]
        assert "Bob Buddy" in inbox_event and "Inbox news" in inbox_event
    finally:
        resp.close()


def test_the_stream_ends_when_the_session_ends(app, client, login, learner, fast_heartbeat):

    login(learner)
    resp = client.get("/chat/messages/stream", buffered=False)
    try:
        chunks = iter(resp.response)
        next(chunks)  # the retry hint: the stream is open
        with app.app_context():
            publish_now(channels.user_notify(learner.id), {"type": "session.end"})
        rest = list(itertools.islice(chunks, 100))  # heartbeats would go on forever
        assert len(rest) < 100, "the stream did not end"
    finally:
        resp.close()
