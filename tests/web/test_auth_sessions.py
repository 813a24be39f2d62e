"""Server-side sessions through the browser: copied cookies after log-out, the "Sessions"
section of the settings (list, revoke, log out everywhere else), idle and lifetime limits,
and the loader's cost."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import UserSession
from app.blueprints.auth.session_loader import load_user
from app.dbtypes import utcnow
from app.extensions import db
from tests.factories import PASSWORD
from tests.support.pages import form_token, link_in, text

CHROME_LINUX = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                              "Gecko) Chrome/120.0.0.0 Safari/537.36"}
FIREFOX_WINDOWS = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) "
                                 "Gecko/20100101 Firefox/121.0"}
HX = {"HX-Request": "true"}
NEW_PASSWORD = "a much better passphrase"


def log_in(client, user, *, remember=False, headers=None):
    data = {"email": user.email, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    assert client.post("/auth/login", data=data, headers=headers or {}).status_code == 302


def signed_in(client) -> bool:
    resp = client.get("/dashboard/")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def copy_of(app, client, cookie: str):
    """Another browser holding a copy of one of `client`'s cookies (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie(cookie, client.get_cookie(cookie).value)
    return thief


def session_rows(user) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                   .order_by(UserSession.id)))


def shift(user, **delta) -> None:
    """Move every stored timestamp of the user's sessions back in time."""
    back = timedelta(**delta)
    for row in session_rows(user):
        row.created_at, row.last_seen_at = row.created_at - back, row.last_seen_at - back
    db.session.commit()


def revocations(emitted) -> list[dict]:
    return [e.payload for e in emitted if e.name == "accounts.sessions.revoked"]


# --- copied cookies ---------------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_log_out(app, client, learner):
    log_in(client, learner)
    thief = copy_of(app, client, "session")
    assert signed_in(thief)
    client.post("/auth/logout")
    assert not signed_in(thief) and not signed_in(client)


def test_a_copied_remember_cookie_stops_working_after_log_out(app, client, learner):
    log_in(client, learner, remember=True)
    thief = copy_of(app, client, "remember_token")
    assert signed_in(thief)
    client.post("/auth/logout")
    assert not signed_in(copy_of(app, thief, "remember_token"))


def test_the_remember_cookie_carries_the_session_token_not_the_user_id(client, learner):
    log_in(client, learner, remember=True)
    value = client.get_cookie("remember_token").value
    assert not value.startswith(f"{learner.id}|") and not value.startswith(f"{learner.id}:")


def test_log_out_ends_the_session_on_the_server_and_says_so(client, learner, emitted):
    log_in(client, learner)
    [session_id] = [row.id for row in session_rows(learner)]
    client.post("/auth/logout")
    assert session_rows(learner) == []
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [session_id]}]


def test_a_password_change_voids_this_browsers_old_cookie_and_keeps_it_signed_in(app, client, learner):
    log_in(client, learner, remember=True)
    old_session, old_remember = copy_of(app, client, "session"), copy_of(app, client, "remember_token")
    resp = client.post("/auth/settings/password",
                       data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert signed_in(client) and signed_in(copy_of(app, client, "remember_token"))
    assert not signed_in(old_session) and not signed_in(old_remember)
    assert len(session_rows(learner)) == 1


# --- log-ins create sessions ------------------------------------------------------------------

def test_a_log_in_records_the_device_and_address(client, learner):
    log_in(client, learner, remember=True, headers=CHROME_LINUX)
    [row] = session_rows(learner)
    assert (row.user_agent, row.ip, row.remembered) == (CHROME_LINUX["User-Agent"], "127.0.0.1", True)


def test_confirming_a_sign_up_starts_a_session(client, outbox):
    client.post("/auth/signup", data={"display_name": "Nora", "email": "nora@example.test",
                                      "password": "plenty of entropy here"})
    assert not signed_in(client)  # the mailed link signs in
    assert client.post(link_in(outbox.last(), "/auth/signup/confirm/")).status_code == 302
    assert signed_in(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1


# --- the settings list -------------------------------------------------------------------------

def test_settings_list_the_sessions_in_words(client, other_client, learner):
    log_in(client, learner, headers=CHROME_LINUX)
    log_in(other_client, learner, headers=FIREFOX_WINDOWS)
    body = text(client.get("/auth/settings"))
    assert "<h2 id=\"sessions-h\">Sessions</h2>" in body
    assert "<strong>Chrome on Linux</strong> (this device)" in body
    assert "<strong>Firefox on Windows</strong><br>" in body
    assert "IP address 127.0.0.1" in body and "Log out everywhere else" in body
    assert text(other_client.get("/auth/settings")).count("</strong> (this device)") == 1


def test_with_one_session_there_is_nothing_else_to_log_out(client, learner):
    log_in(client, learner)
    assert "Log out everywhere else" not in text(client.get("/auth/settings"))


def test_revoking_a_session_from_the_settings_page(client, other_client, learner, emitted):
    log_in(client, learner)
    log_in(other_client, learner, headers=FIREFOX_WINDOWS)
    mine, theirs = session_rows(learner)
    resp = client.post(f"/auth/settings/sessions/{theirs.id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"] == "/auth/settings#sessions-h"
    page = text(client.get("/auth/settings"))
    assert "That session is logged out." in page and "Firefox on Windows" not in page
    assert not signed_in(other_client) and signed_in(client)
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [theirs.id]}]


def test_revoking_a_session_over_htmx_answers_the_sessions_block(client, other_client, learner):
    log_in(client, learner)
    log_in(other_client, learner, headers=FIREFOX_WINDOWS)
    theirs = session_rows(learner)[1]
    resp = client.post(f"/auth/settings/sessions/{theirs.id}/revoke", headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data
    body = text(resp)
    assert "That session is logged out." in body and "(this device)" in body
    assert "Firefox on Windows" not in body and "Save profile" not in body
    assert not signed_in(other_client)


def test_revoking_this_devices_session_logs_out(client, learner):
    log_in(client, learner)
    [mine] = session_rows(learner)
    resp = client.post(f"/auth/settings/sessions/{mine.id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert not signed_in(client) and session_rows(learner) == []


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_another_users_session_cannot_be_revoked(client, other_client, learner, creator, headers,
                                                 emitted):
    log_in(client, learner)
    log_in(other_client, creator)
    [theirs] = session_rows(creator)
    resp = client.post(f"/auth/settings/sessions/{theirs.id}/revoke", headers=headers)
    assert resp.status_code == 404
    assert (b"<html" in resp.data) is (not headers)
    assert signed_in(other_client) and revocations(emitted) == []


@pytest.mark.parametrize("session_id", [0, 999999, 2**31 - 1])
def test_revoking_a_session_that_does_not_exist_is_not_found(client, learner, session_id):
    log_in(client, learner)
    assert client.post(f"/auth/settings/sessions/{session_id}/revoke").status_code == 404
    assert client.post("/auth/settings/sessions/99999999999999/revoke").status_code == 404


@pytest.mark.parametrize("url", ["/auth/settings/sessions/1/revoke", "/auth/settings/sessions/revoke-others"])
def test_the_session_buttons_need_an_account(client, url):
    resp = client.post(url)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")


def test_log_out_everywhere_else(app, client, other_client, learner, emitted):
    log_in(client, learner)
    log_in(other_client, learner)
    remembered = app.test_client()
    log_in(remembered, learner, remember=True)
    thief = copy_of(app, remembered, "remember_token")
    others = [row.id for row in session_rows(learner)[1:]]
    resp = client.post("/auth/settings/sessions/revoke-others")
    assert resp.status_code == 302
    assert "Logged out everywhere else (2 sessions)." in text(client.get("/auth/settings"))
    assert signed_in(client)
    assert not signed_in(other_client) and not signed_in(remembered) and not signed_in(thief)
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": others}]


def test_log_out_everywhere_else_over_htmx(client, other_client, learner):
    log_in(client, learner)
    log_in(other_client, learner)
    resp = client.post("/auth/settings/sessions/revoke-others", headers=HX)
    assert resp.status_code == 200 and b"<html" not in resp.data
    assert "Logged out everywhere else (1 session)." in text(resp)
    assert "Log out everywhere else" not in text(resp)  # nothing else is left
    assert signed_in(client) and not signed_in(other_client)


def test_the_session_buttons_need_the_csrf_token(client, other_client, learner, csrf_on):
    client.post("/auth/login", data={"email": learner.email, "password": PASSWORD,
                                     "csrf_token": form_token(client.get("/auth/login"))})
    other_client.post("/auth/login", data={"email": learner.email, "password": PASSWORD,
                                           "csrf_token": form_token(other_client.get("/auth/login"))})
    theirs = session_rows(learner)[1]
    for url in (f"/auth/settings/sessions/{theirs.id}/revoke", "/auth/settings/sessions/revoke-others"):
        assert client.post(url).status_code == 400
        assert client.post(url, headers=HX).status_code == 400
    assert signed_in(other_client)
    page = client.get("/auth/settings")
    tokens = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', text(page))
    assert tokens
    resp = client.post(f"/auth/settings/sessions/{theirs.id}/revoke", data={"csrf_token": tokens[0]})
    assert resp.status_code == 302 and not signed_in(other_client)


# --- idle timeout and lifetime, as the next request sees them ---------------------------------

def test_an_idle_session_is_signed_out_at_the_next_request(app, client, learner, emitted):
    log_in(client, learner)
    [session_id] = [row.id for row in session_rows(learner)]
    shift(learner, seconds=app.config["SESSION_IDLE_SECONDS"])
    assert not signed_in(client)
    assert session_rows(learner) == []
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [session_id]}]


def test_a_remembered_session_still_ends_at_its_lifetime(app, client, learner):
    log_in(client, learner, remember=True)
    shift(learner, seconds=app.config["SESSION_IDLE_SECONDS"] + 60)
    assert signed_in(client)  # "remember me": a longer idle timeout
    for row in session_rows(learner):
        row.created_at = utcnow() - timedelta(seconds=app.config["SESSION_MAX_SECONDS"])
    db.session.commit()
    assert not signed_in(client) and not signed_in(copy_of(app, client, "remember_token"))


def test_an_admin_is_signed_out_sooner(app, client, other_client, learner, admin):
    log_in(client, learner)
    log_in(other_client, admin, remember=True)
    for user in (learner, admin):
        shift(user, seconds=app.config["ADMIN_SESSION_IDLE_SECONDS"])
    assert signed_in(client)
    assert other_client.get("/admin/").status_code == 302
    assert not signed_in(other_client)


def test_last_seen_is_written_at_most_once_a_minute(client, learner):
    log_in(client, learner)
    shift(learner, seconds=30)
    before = session_rows(learner)[0].last_seen_at
    assert signed_in(client)
    assert session_rows(learner)[0].last_seen_at == before
    shift(learner, seconds=60)
    assert signed_in(client)
    assert session_rows(learner)[0].last_seen_at > utcnow() - timedelta(seconds=30)


def test_the_loader_is_one_statement(app, client, admin):
    log_in(client, admin)
    token = _token_of(client)
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engine = db.engine
    with app.test_request_context("/dashboard/"):
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            user = load_user(token)
            assert user.id == admin.id and user.is_admin and user.session_id
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and statements[0].lstrip().startswith("SELECT")


def _token_of(client) -> str:
    with client.session_transaction() as sess:
        return sess["_user_id"]

