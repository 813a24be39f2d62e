"""/admin/moderation over HTTP: who may see and act (by URL and by htmx), the queue with its
context, a decision without JavaScript (post, redirect, flash) and with htmx (the item is
swapped), bad input and forged ids as clear 4xx, never a 500."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.messaging.models import ChatMessage, Notification
from app.moderation.models import AuditLog, Report
from tests.support.moderation import chat_line, dm_line, member, reported
from tests.support.pages import HX, text
from tests.support.rows import count

QUEUE = "/admin/moderation"


@pytest.fixture
def chief(make_user):
    return make_user(email="chief@example.test", display_name="Cora Chief",
                     permissions=("moderate", "manage_users"))


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Python Basics", status="published")


@pytest.fixture
def troll(make_user, course):
    user = make_user(email="troll@example.test", display_name="Tom Troll")
    member(user, course)
    return user


@pytest.fixture
def line(course, troll, learner):
    member(learner, course)
    message = chat_line(course, troll, "you are all idiots")
    reported(learner, "chat_message", message.id, "Insulting everyone")
    return message


def act_url(message) -> str:
    return f"{QUEUE}/chat_message/{message.id}"


def statuses(message) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(Report.status).where(
        Report.target_type == "chat_message", Report.target_id == message.id)))


# --- who may see and act --------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("get", QUEUE), ("post", "line")])
def test_anonymous_visitors_are_sent_to_log_in(client, line, method, path):
    url = act_url(line) if path == "line" else path
    resp = getattr(client, method)(url, data={"action": "delete", "reason": "x"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")
    fragment = getattr(client, method)(url, data={"action": "delete", "reason": "x"}, headers=HX)
    assert fragment.status_code == 401 and "HX-Redirect" in fragment.headers
    assert statuses(line) == {"open"}


@pytest.mark.parametrize("who", ["learner", "creator", "troll", "reviewer", "user_admin"])
def test_only_moderators_see_and_act_by_url_and_by_htmx(client, login, request, line, who):
    """The course's creator moderates their own room, but never the admin queue."""
    login(request.getfixturevalue(who))
    for headers in ({}, HX):
        page = client.get(QUEUE, headers=headers)
        assert page.status_code == 403
        assert "you are all idiots" not in text(page)
        for action in ("dismiss", "delete", "mute", "ban", "suspend"):
            resp = client.post(act_url(line), data={"action": action, "reason": "x", "minutes": "5"},
                               headers=headers)
            assert resp.status_code == 403, (who, action)
        if headers:
            assert b"<html" not in page.data
    assert statuses(line) == {"open"}
    db.session.expire_all()
    assert db.session.get(ChatMessage, line.id).deleted_at is None


def test_a_moderator_without_manage_users_is_not_offered_suspend_and_is_refused(client, login, moderator,
                                                                                   line, troll):
    login(moderator)
    page = text(client.get(QUEUE))
    assert 'value="suspend"' not in page and 'value="ban"' in page
    resp = client.post(act_url(line), data={"action": "suspend", "reason": "Threats"})
    assert resp.status_code == 403
    db.session.refresh(troll)
    assert not troll.is_suspended() and statuses(line) == {"open"}


def test_a_moderator_who_manages_users_may_suspend(client, login, chief, line, troll):
    login(chief)
    assert 'value="suspend"' in text(client.get(QUEUE))
    resp = client.post(act_url(line), data={"action": "suspend", "reason": "Threats", "minutes": ""})
    assert resp.status_code == 302
    db.session.refresh(troll)
    assert troll.is_suspended() and troll.suspended_until is None
    assert statuses(line) == {"resolved"}


# --- the page -------------------------------------------------------------------------------

def test_the_queue_shows_each_item_with_its_context(client, login, moderator, line, course, make_user):
    second = make_user()
    member(second, course)
    reported(second, "chat_message", line.id, "Abusive language")
    chat_line(course, second, "a reply after it")
    login(moderator)
    resp = client.get(QUEUE)
    assert resp.status_code == 200 and b"<html" in resp.data
    body = text(resp)
    assert "A chat message in “Python Basics”" in body
    assert "Reported by 2 people" in body
    assert "Insulting everyone" in body and "Abusive language" in body
    assert "you are all idiots" in body and "a reply after it" in body and "Tom Troll" in body
    assert f'href="/chat/courses/{course.id}"' in body
    assert body.count('<article id="report-chat_message-') == 1


def test_the_queue_as_an_htmx_fragment(client, login, moderator, line):
    login(moderator)
    resp = client.get(QUEUE, headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data
    assert f'id="report-chat_message-{line.id}"' in text(resp)
    assert "HX-Request" in resp.headers["Vary"]


def test_an_empty_queue_says_so(client, login, moderator):
    login(moderator)
    assert "Nothing to moderate" in text(client.get(QUEUE))


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999999", "3"])
def test_odd_page_numbers_are_harmless(client, login, moderator, line, page):
    login(moderator)
    assert client.get(f"{QUEUE}?page={page}").status_code == 200


def test_direct_messages_show_only_the_neighbours(client, login, moderator, learner, make_user):
    pest = make_user(display_name="Pete Pest")
    dm_line(pest, learner, "very old private thing")
    for n in range(3):
        dm_line(learner, pest, f"filler {n}")
    target = dm_line(pest, learner, "send me money")
    reported(learner, "direct_message", target.id, "Scam")
    login(moderator)
    body = text(client.get(QUEUE))
    assert "send me money" in body and "filler 1" in body and "filler 2" in body
    assert "very old private thing" not in body and "filler 0" not in body
    assert "From Pete Pest to Lena Learner" in body


@pytest.mark.parametrize("target_type", ["chat_message", "direct_message", "discussion_post", "review"])
def test_missing_targets_render_as_missing(client, login, moderator, learner, target_type):
    reported(learner, target_type, 555555, "Gone")
    login(moderator)
    resp = client.get(QUEUE)
    assert resp.status_code == 200 and "no longer exists" in text(resp)


def test_reported_html_is_shown_inert(client, login, moderator, course, troll, learner):
    member(learner, course)
    message = chat_line(course, troll, '<script>alert(1)</script><img src=x onerror="alert(2)">')
    reported(learner, "chat_message", message.id, "<b>xss</b> in the reason")
    login(moderator)
    raw = client.get(QUEUE).get_data(as_text=True)
    assert "<script>alert(1)" not in raw and "<img src=x" not in raw and "<b>xss</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "&lt;b&gt;xss&lt;/b&gt;" in raw


class _Labels(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.labelled = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])
        if tag in ("input", "textarea", "select") and a.get("type") != "hidden":
            self.fields.append(a.get("id"))


def test_every_field_of_the_decision_form_is_labelled(client, login, chief, line):
    login(chief)
    parser = _Labels()
    parser.feed(client.get(QUEUE).get_data(as_text=True))
    ours = [f for f in parser.fields if f and f.startswith("report-")]
    assert len(ours) == 7  # five actions, minutes, reason
    assert all(f in parser.labelled for f in parser.fields if f), parser.fields
    assert None not in parser.fields


def test_the_admin_index_links_to_the_queue_with_the_count(client, login, moderator, reviewer, line,
                                                           other_client):
    login(moderator)
    body = text(client.get("/admin/"))
    assert 'href="/admin/moderation"' in body and "1 reported item waiting" in body
    login(reviewer, on=other_client)
    assert 'href="/admin/moderation"' not in text(other_client.get("/admin/"))


# --- deciding -------------------------------------------------------------------------------

def test_deciding_without_javascript_posts_and_redirects_with_a_flash(client, login, moderator, line,
                                                                       learner):
    login(moderator)
    resp = client.post(act_url(line) + "?page=1", data={"action": "delete", "reason": "Insults"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith(QUEUE)
    page = text(client.get(resp.headers["Location"]))
    assert "the message was removed" in page and "Nothing to moderate" in page
    assert statuses(line) == {"resolved"}
    db.session.expire_all()
    assert db.session.get(ChatMessage, line.id).deleted_at is not None
    (note,) = db.session.scalars(sa.select(Notification).where(Notification.user_id == learner.id,
                                                               Notification.kind == "moderation.report_closed"))
    assert note.data["outcome"] == "the message was removed"
    assert count(AuditLog, AuditLog.action == "moderation.delete", AuditLog.actor_id == moderator.id,
                 AuditLog.reason == "Insults") == 1


def test_deciding_with_htmx_swaps_just_that_item(client, login, moderator, line):
    login(moderator)
    resp = client.post(act_url(line), data={"action": "mute", "reason": "Cool down", "minutes": "30"},
                       headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data
    body = text(resp)
    assert body.strip().startswith(f'<article id="report-chat_message-{line.id}"')
    assert "Decided:" in body and "30 minutes" in body and 'role="status"' in body
    assert statuses(line) == {"resolved"}


def test_deciding_twice_is_a_clear_409(client, login, moderator, line, learner):
    login(moderator)
    assert client.post(act_url(line), data={"action": "dismiss", "reason": "Fine"}).status_code == 302
    again = client.post(act_url(line), data={"action": "delete", "reason": "Hmm"})
    assert again.status_code == 409 and "already handled" in text(again)
    fragment = client.post(act_url(line), data={"action": "delete", "reason": "Hmm"}, headers=HX)
    assert fragment.status_code == 409 and b"<html" not in fragment.data
    assert count(Notification, Notification.user_id == learner.id,
                 Notification.kind == "moderation.report_closed") == 1


@pytest.mark.parametrize("form, message", [
    ({"action": "explode", "reason": "x"}, "Choose one of the actions."),
    ({"reason": "x"}, "Choose one of the actions."),
    ({"action": "delete", "reason": ""}, "Give a reason for the record."),
    ({"action": "delete"}, "Give a reason for the record."),
    ({"action": "mute", "reason": "x", "minutes": "-5"}, "Choose from 1 to"),
    ({"action": "mute", "reason": "x", "minutes": "abc"}, "Minutes must be a whole number."),
    ({"action": "mute", "reason": "x", "minutes": "9999999999999999"}, "Choose from 1 to"),
    ({"action": "mute", "reason": "x", "minutes": ""}, "Say for how many minutes."),
    ({"action": "ban", "reason": "x", "minutes": "1.5"}, "Minutes must be a whole number."),
    ({"action": "dismiss", "reason": "x" * 6000}, "Keep the reason under"),
])
def test_bad_input_is_a_422_with_the_message_on_the_form(client, login, moderator, line, form, message):
    login(moderator)
    resp = client.post(act_url(line), data=form)
    assert resp.status_code == 422 and b"<html" in resp.data
    assert message in text(resp)
    if form.get("reason") == "x":
        assert re.search(r'name="reason"[^>]*>x</textarea>', text(resp)), "the typed reason is kept"
    fragment = client.post(act_url(line), data=form, headers=HX)
    assert fragment.status_code == 422 and b"<html" not in fragment.data
    assert message in text(fragment) and f'id="report-chat_message-{line.id}"' in text(fragment)
    assert statuses(line) == {"open"}


@pytest.mark.parametrize("url", [f"{QUEUE}/review/999999", f"{QUEUE}/user/1", f"{QUEUE}/Review/1",
                                 f"{QUEUE}/chat_message/99999999999999999999999",
                                 f"{QUEUE}/chat_message/0"])
def test_forged_targets_are_404(client, login, moderator, line, url):
    login(moderator)
    for headers in ({}, HX):
        resp = client.post(url, data={"action": "dismiss", "reason": "x"}, headers=headers)
        assert resp.status_code == 404, url
        bad = client.post(url, data={"action": "explode", "reason": ""}, headers=headers)
        assert bad.status_code in (404, 422), url
    assert statuses(line) == {"open"}


def test_the_decision_form_needs_the_csrf_token(client, login, moderator, line, csrf_on):
    login(moderator)
    resp = client.post(act_url(line), data={"action": "delete", "reason": "x"})
    assert resp.status_code == 400 and statuses(line) == {"open"}
