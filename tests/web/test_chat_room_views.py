"""The course chat room page without JavaScript, and its htmx fragments."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.learning.enrollment import enroll
from app.messaging import chat, chat_moderation
from app.messaging.models import ChatMessage, ChatSanction
from app.moderation.models import Report
from tests.support.pages import text


@pytest.fixture
def course(db, creator, make_course):
    return make_course(creator, title="Practical SQL", status="published")


@pytest.fixture
def member(db, learner, course):
    enroll(learner, course)
    db.session.commit()
    return learner


def say(actor, course, body="Hello"):
    message = chat.post_message(actor, course, body)
    chat.db.session.commit()
    return message


def room_url(course, **q):
    from urllib.parse import urlencode
    return f"/chat/courses/{course.id}" + (f"?{urlencode(q)}" if q else "")


def test_a_member_sees_the_room_with_history_and_a_send_form(client, login, member, course):
    say(member, course, "First `post`")
    login(member)
    resp = client.get(room_url(course))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Chat: Practical SQL" in body and "<code>post</code>" in body
    assert f'ws-connect="/ws/chat/{course.id}?after=' in body and "vendor/ws.min.js" in body
    assert '<label for="chat-body">' in body and 'id="online"' in body


def test_the_room_fragment_for_htmx_has_no_layout(client, htmx, login, member, course):
    login(member)
    resp = htmx.get(room_url(course))
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    resp = client.get(room_url(course))
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_a_non_member_gets_403_with_a_reason_and_the_course_link(client, htmx, login, make_user, course):
    login(make_user())
    resp = client.get(room_url(course))
    assert resp.status_code == 403
    assert "course&#39;s learners" in resp.get_data(as_text=True) or "learners" in text(resp)
    assert f"/courses/{course.slug}" in resp.get_data(as_text=True)
    assert htmx.get(room_url(course)).status_code == 403
    assert client.post(f"/chat/courses/{course.id}/messages", data={"body": "hi"}).status_code == 403
    assert htmx.post(f"/chat/courses/{course.id}/messages", data={"body": "hi"}).status_code == 403
    assert chat.db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_an_unknown_room_is_404(client, login, member):
    login(member)
    assert client.get("/chat/courses/999999").status_code == 404
    assert client.get("/chat/courses/99999999999").status_code == 404


def test_posting_without_js_redirects_back_to_the_message(client, login, member, course):
    login(member)
    resp = client.post(f"/chat/courses/{course.id}/messages", data={"body": "Hi all"})
    message = chat.db.session.scalar(sa.select(ChatMessage))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/chat/courses/{course.id}#m-{message.id}")
    assert "Hi all" in client.get(room_url(course)).get_data(as_text=True)


def test_html_and_script_in_messages_are_inert(client, login, member, course):
    say(member, course, '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))')
    login(member)
    body = client.get(room_url(course)).get_data(as_text=True)
    log = body[body.index('id="chat-log"'):body.index('class="chat-send"')]
    assert "<script" not in log and "<img" not in log and 'href="javascript:' not in log
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in log  # shown as text


def test_a_too_long_message_is_refused_with_the_text_kept(client, login, member, course):
    login(member)
    long = "y" * 2001
    resp = client.post(f"/chat/courses/{course.id}/messages", data={"body": long})
    assert resp.status_code == 422
    assert "under 2,000 characters" in text(resp) and long in resp.get_data(as_text=True)
    assert chat.db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_flooding_shows_a_form_message_and_retry_after(app, client, login, member, course, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_COUNT", 1)
    # One window for the whole test: windows are aligned to the clock, and a test that
    # straddled two (a busy machine) would see its count start again.
    monkeypatch.setitem(app.config, "MESSAGE_RATE_SECONDS", 10**9)
    login(member)
    client.post(f"/chat/courses/{course.id}/messages", data={"body": "one"})
    resp = client.post(f"/chat/courses/{course.id}/messages", data={"body": "two, kept"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "too fast" in text(resp) and "two, kept" in text(resp)


def test_a_muted_member_sees_why_their_post_is_refused(client, login, creator, member, course):
    chat_moderation.sanction_user(creator, course, member, kind="mute", minutes=10, reason="")
    chat.db.session.commit()
    login(member)
    resp = client.post(f"/chat/courses/{course.id}/messages", data={"body": "let me talk"})
    assert resp.status_code == 403 and "muted" in text(resp) and "let me talk" in text(resp)


def test_load_earlier_by_link_and_by_htmx(client, htmx, login, member, course):
    ids = [say(member, course, f"msg-{n}").id for n in range(52)]
    login(member)
    page = client.get(room_url(course)).get_data(as_text=True)
    assert f"before={ids[2]}" in page and "msg-1<" not in page
    resp = htmx.get(room_url(course, before=ids[2]))
    fragment = resp.get_data(as_text=True)
    assert "<html" not in fragment and "msg-0" in fragment and "msg-1" in fragment and "msg-2<" not in fragment
    assert 'id="earlier"' not in fragment
    assert "msg-0" in client.get(room_url(course, before=ids[2])).get_data(as_text=True)


def test_edit_own_message_without_js_and_with_htmx(client, htmx, login, member, course):
    message = say(member, course, "typo")
    login(member)
    page = client.get(room_url(course, edit=message.id)).get_data(as_text=True)
    assert f'id="edit-{message.id}"' in page
    resp = client.post(f"/chat/courses/{course.id}/messages/{message.id}/edit", data={"body": "fixed"})
    assert resp.status_code == 302
    resp = htmx.post(f"/chat/courses/{course.id}/messages/{message.id}/edit", data={"body": "fixed again"})
    assert resp.status_code == 200 and "fixed again" in text(resp) and "edited" in text(resp)
    assert "<html" not in resp.get_data(as_text=True)
    resp = htmx.post(f"/chat/courses/{course.id}/messages/{message.id}/edit", data={"body": ""})
    assert resp.status_code == 422 and "Write a message first" in text(resp)


def test_others_cannot_edit_or_delete_by_url_or_htmx(client, htmx, login, make_user, member, course):
    message = say(member, course, "mine")
    other = make_user()
    enroll(other, course)
    chat.db.session.commit()
    login(other)
    base = f"/chat/courses/{course.id}/messages/{message.id}"
    assert client.post(base + "/edit", data={"body": "x"}).status_code == 403
    assert htmx.post(base + "/edit", data={"body": "x"}).status_code == 403
    assert htmx.get(base + "/edit").status_code == 403
    assert client.post(base + "/delete").status_code == 403
    assert htmx.post(base + "/delete").status_code == 403
    chat.db.session.refresh(message)
    assert message.body == "mine" and message.deleted_at is None


def test_forged_message_ids_are_404(client, htmx, login, make_user, make_course, member, course):
    elsewhere = make_course(make_user(), status="published")
    enroll(member, elsewhere)
    chat.db.session.commit()
    foreign = say(member, elsewhere, "elsewhere")
    login(member)
    assert client.post(f"/chat/courses/{course.id}/messages/{foreign.id}/delete").status_code == 404
    assert htmx.post(f"/chat/courses/{course.id}/messages/999999/edit", data={"body": "x"}).status_code == 404
    assert client.post(f"/chat/courses/{course.id}/messages/{foreign.id}/report",
                       data={"reason": "x"}).status_code == 404


def test_delete_own_message_shows_deleted(client, htmx, login, member, course):
    message = say(member, course, "oops")
    login(member)
    resp = htmx.post(f"/chat/courses/{course.id}/messages/{message.id}/delete")
    assert resp.status_code == 200 and "This message was deleted." in text(resp) and "oops" not in text(resp)


def test_report_a_message(client, login, make_user, member, course):
    message = say(member, course, "rude")
    other = make_user()
    enroll(other, course)
    chat.db.session.commit()
    login(other)
    page = client.get(room_url(course)).get_data(as_text=True)
    assert f"/messages/{message.id}/report" in page
    assert client.post(f"/chat/courses/{course.id}/messages/{message.id}/report",
                       data={"reason": ""}).status_code == 422
    resp = client.post(f"/chat/courses/{course.id}/messages/{message.id}/report", data={"reason": "rude"})
    assert resp.status_code == 302
    assert chat.db.session.scalar(sa.select(Report.target_type)) == "chat_message"


def test_the_creator_mutes_in_their_room_but_cannot_ban_or_set_slow_mode(client, login, creator, member, course):
    say(member, course, "spam")
    login(creator)
    page = client.get(room_url(course)).get_data(as_text=True)
    assert "Mute Lena Learner" in page and "Ban Lena Learner" not in page and "slow-seconds" not in page
    base = f"/chat/courses/{course.id}"
    assert client.post(base + "/sanctions", data={"user_id": member.id, "kind": "ban"}).status_code == 403
    assert client.post(base + "/slow-mode", data={"seconds": "5"}).status_code == 403
    assert client.post(base + "/sanctions", data={"user_id": member.id, "kind": "mute",
                                                  "minutes": "abc"}).status_code == 422
    assert client.post(base + "/sanctions", data={"user_id": 999999, "kind": "mute"}).status_code == 404
    resp = client.post(base + "/sanctions", data={"user_id": member.id, "kind": "mute", "minutes": "10",
                                                  "reason": "spam"})
    assert resp.status_code == 302
    sanction = chat.db.session.scalar(sa.select(ChatSanction))
    assert (sanction.kind, sanction.user_id) == ("mute", member.id)
    assert client.post(base + f"/sanctions/{sanction.id}/lift").status_code == 302


def test_members_cannot_moderate_by_url(client, htmx, login, make_user, member, course):
    other = make_user()
    enroll(other, course)
    chat.db.session.commit()
    login(member)
    base = f"/chat/courses/{course.id}"
    assert client.post(base + "/sanctions", data={"user_id": other.id, "kind": "mute", "minutes": "5"}).status_code == 403
    assert htmx.post(base + "/slow-mode", data={"seconds": "5"}).status_code == 403


def test_a_moderator_sets_slow_mode(client, login, moderator, course):
    login(moderator)
    resp = client.post(f"/chat/courses/{course.id}/slow-mode", data={"seconds": "15"})
    assert resp.status_code == 302
    assert "one message every 15 s" in client.get(room_url(course)).get_data(as_text=True)
    assert client.post(f"/chat/courses/{course.id}/slow-mode", data={"seconds": "-1"}).status_code == 422
