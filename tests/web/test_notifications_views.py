"""The notification centre and the unread badge in the header."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.messaging.notifications import notify, unread_count
from tests.support.pages import text


@pytest.fixture
def notes(learner):
    made = [notify(learner, "welcome", name=f"Lena {n}") for n in range(3)]
    db.session.commit()
    return made


@pytest.fixture
def signed_in(client, login, learner):
    return login(learner)


def badge(resp) -> str:
    match = re.search(r'<span id="unread-badge"[^>]*>.*?</span>(?=\s*</a>|$)',
                      resp.get_data(as_text=True), re.DOTALL)
    assert match, "no unread badge"
    return match.group(0)


def unread(user) -> int:
    db.session.expire_all()
    return unread_count(user)


def test_notifications_need_an_account(client):
    resp = client.get("/notifications/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/auth/login?next=%2Fnotifications%2F"


def test_notification_list_renders_with_layout(client, signed_in, notes):
    resp = client.get("/notifications/")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"<h1>Notifications</h1>" in resp.data
    body = text(resp)
    assert body.index("Welcome to Lyceum, Lena 2!") < body.index("Welcome to Lyceum, Lena 0!")
    assert body.count("Mark as read</button>") == 3
    assert "Mark all as read" in body


def test_notification_list_for_htmx_is_the_list_with_an_out_of_band_badge(htmx, signed_in, notes):
    resp = htmx.get("/notifications/")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"<h1>Notifications</h1>" not in resp.data
    assert b"Welcome to Lyceum, Lena 0!" in resp.data
    assert re.search(r'<span id="unread-badge" class="badge" hx-swap-oob="true">.*3', text(resp))


def test_empty_notification_list_says_so(client, signed_in):
    resp = client.get("/notifications/")
    assert "No notifications yet." in text(resp)
    assert "Mark all as read" not in text(resp)


def test_notification_list_shows_only_my_own(client, signed_in, notes, make_user):
    someone = make_user(display_name="Sam Someone")
    notify(someone, "welcome", name="Sam")
    db.session.commit()
    body = text(client.get("/notifications/"))
    assert "Welcome to Lyceum, Sam!" not in body


@pytest.mark.parametrize("query", ["page=2", "page=abc", "page=-1", "page=99999999999999999999"])
def test_notification_list_survives_odd_page_numbers(client, signed_in, notes, query):
    assert client.get(f"/notifications/?{query}").status_code == 200


def test_notification_list_pages(client, signed_in, learner):
    for n in range(25):
        notify(learner, "welcome", name=f"N{n}")
    db.session.commit()
    first = text(client.get("/notifications/"))
    assert "Page 1 of 2" in first and 'href="/notifications/?page=2"' in first
    second = text(client.get("/notifications/?page=2"))
    assert "Welcome to Lyceum, N0!" in second and "Welcome to Lyceum, N24!" not in second


def test_mark_one_read(client, signed_in, learner, notes):
    resp = client.post(f"/notifications/{notes[0].id}/read")
    assert resp.status_code == 302 and resp.headers["Location"] == "/notifications/"
    assert unread(learner) == 2
    assert text(client.get("/notifications/")).count("Mark as read</button>") == 2


def test_mark_one_read_over_htmx_updates_the_list_and_the_badge(htmx, signed_in, learner, notes):
    resp = htmx.post(f"/notifications/{notes[0].id}/read")
    assert resp.status_code == 200
    assert b"<html" not in resp.data
    assert text(resp).count("Mark as read</button>") == 2
    assert re.search(r'<span id="unread-badge" class="badge" hx-swap-oob="true">.*2<span', text(resp))
    assert unread(learner) == 2


def test_marking_a_read_notification_again_changes_nothing(client, signed_in, learner, notes):
    client.post(f"/notifications/{notes[0].id}/read")
    assert client.post(f"/notifications/{notes[0].id}/read").status_code == 302
    assert unread(learner) == 2


def test_marking_someone_elses_notification_is_refused(client, htmx, signed_in, make_user):
    someone = make_user()
    theirs = notify(someone, "welcome", name="Sam")
    db.session.commit()
    resp = client.post(f"/notifications/{theirs.id}/read")
    assert resp.status_code == 403
    assert b"<html" in resp.data
    assert "You are not allowed to read this notification." in text(resp)
    fragment = htmx.post(f"/notifications/{theirs.id}/read")
    assert fragment.status_code == 403 and b"<html" not in fragment.data
    assert fragment.headers["HX-Retarget"] == "#alerts"
    assert unread(someone) == 1


def test_marking_a_missing_notification_is_404(client, htmx, signed_in):
    resp = client.post("/notifications/987654/read")
    assert resp.status_code == 404
    assert b"<html" in resp.data and "No such notification." in text(resp)
    fragment = htmx.post("/notifications/987654/read")
    assert fragment.status_code == 404 and b"<html" not in fragment.data


def test_mark_read_needs_an_account(client, htmx, notes):
    assert client.post(f"/notifications/{notes[0].id}/read").status_code == 302
    resp = htmx.post(f"/notifications/{notes[0].id}/read")
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/auth/login")


def test_mark_read_by_get_is_405(client, signed_in, notes):
    resp = client.get(f"/notifications/{notes[0].id}/read")
    assert resp.status_code == 405 and b"<html" in resp.data


def test_mark_all_read(client, signed_in, learner, notes, make_user):
    someone = make_user()
    notify(someone, "welcome", name="Sam")
    db.session.commit()
    resp = client.post("/notifications/read-all")
    assert resp.status_code == 302 and resp.headers["Location"] == "/notifications/"
    assert unread(learner) == 0
    assert unread(someone) == 1
    assert "Mark as read</button>" not in text(client.get("/notifications/"))


def test_mark_all_read_over_htmx_empties_the_badge_out_of_band(htmx, signed_in, learner, notes):
    resp = htmx.post("/notifications/read-all")
    assert resp.status_code == 200
    assert b"<html" not in resp.data and b"Mark as read</button>" not in resp.data
    assert '<span id="unread-badge" class="badge badge-empty" hx-swap-oob="true"></span>' in text(resp)


@pytest.mark.parametrize("url", ["/", "/dashboard/", "/auth/settings", "/notifications/",
                                 "/no-such-page"])
def test_header_badge_shows_the_unread_count_on_every_page(client, signed_in, notes, url):
    resp = client.get(url)
    assert b"<html" in resp.data
    shown = badge(resp)
    assert "hx-swap-oob" not in shown
    assert re.sub(r"<[^>]+>", "", shown) == ", 3 unread"


def test_header_badge_is_hidden_when_nothing_is_unread(client, signed_in):
    shown = badge(client.get("/"))
    assert 'class="badge badge-empty"' in shown


def test_badge_is_hidden_by_the_stylesheet_when_empty(client):
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert re.search(r"\.badge-empty\s*\{\s*display:\s*none", css)


def test_dashboard_marks_unread_notifications(client, signed_in, notes):
    client.post(f"/notifications/{notes[0].id}/read")
    body = text(client.get("/dashboard/"))
    assert body.count('class="notification unread"') == 2
    assert body.count('class="notification"') == 1
