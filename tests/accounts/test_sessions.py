"""Server-side sessions (app/accounts/sessions.py): tokens, the loader's rules, expiry,
ending them, and the event the real-time side listens to."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts import sessions
from app.accounts.devices import describe_device
from app.accounts.models import UserSession
from app.errors import NotFound
from app.jobs.schedule import PERIODIC
from app.jobs.sessions import end_expired_sessions as end_expired_sessions_job

T0 = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/120.0.0.0 Safari/537.36")


@pytest.fixture
def limits(app):
    config = app.config
    return {key: timedelta(seconds=config[key]) for key in (
        "SESSION_IDLE_SECONDS", "REMEMBER_SESSION_IDLE_SECONDS", "SESSION_MAX_SECONDS",
        "ADMIN_SESSION_IDLE_SECONDS", "ADMIN_SESSION_MAX_SECONDS")}


def revocations(emitted) -> list[dict]:
    return [e.payload for e in emitted if e.name == "accounts.sessions.revoked"]


def row_count(db, user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id))


# --- the token --------------------------------------------------------------------------------

def test_the_row_keeps_only_the_tokens_sha256(db, learner, open_session):
    token = open_session(learner, now=T0)
    row = db.session.get(UserSession, learner.session_id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.user_agent, row.ip)
    assert len(token) >= 43 and learner.get_id() == token


def test_each_log_in_gets_its_own_token(learner, open_session):
    assert open_session(learner) != open_session(learner)


def test_a_user_without_a_session_cannot_be_logged_in(make_user):
    with pytest.raises(RuntimeError, match="start a session"):
        make_user().get_id()


def test_the_loader_returns_the_user_with_the_session_id(learner, open_session, signed_in_as):
    token = open_session(learner, now=T0)
    session_id = learner.session_id
    user = signed_in_as(token, now=T0 + timedelta(seconds=5))
    assert user is learner and user.session_id == session_id and user.get_id() == token


@pytest.mark.parametrize("token", ["", "abc", "1:1", "2:1", None, 17, "x" * 500, "\x00"])
def test_the_loader_refuses_garbage_and_old_style_cookies(learner, open_session, signed_in_as, token):
    open_session(learner)
    assert signed_in_as(token) is None


def test_the_loader_refuses_a_suspended_user(db, learner, open_session, signed_in_as):
    token = open_session(learner, now=T0)
    learner.suspended_at = T0  # set directly: the suspension service also ends the sessions
    db.session.commit()
    assert signed_in_as(token, now=T0 + timedelta(minutes=1)) is None


def test_the_loader_is_one_statement_with_the_admin_permissions(db, admin, open_session):
    token = open_session(admin, now=T0)
    db.session.expire_all()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        user = sessions.resume_session(token, now=T0 + timedelta(seconds=30)).user
        assert user.is_admin and user.has_permission("manage_finance")  # no lazy load
        assert user.display_name and not user.is_suspended()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert [s.split()[0] for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))] == ["SELECT"]


# --- last seen --------------------------------------------------------------------------------

def test_last_seen_is_written_at_most_once_a_minute(db, learner, open_session):
    token = open_session(learner, now=T0, ip="203.0.113.1")
    row = db.session.get(UserSession, learner.session_id)
    soon = sessions.resume_session(token, now=T0 + timedelta(seconds=59), ip="203.0.113.2")
    assert not soon.wrote and row.last_seen_at == T0 and row.ip == "203.0.113.1"
    later = sessions.resume_session(token, now=T0 + timedelta(seconds=61), ip="203.0.113.2")
    db.session.commit()
    assert later.wrote and row.last_seen_at == T0 + timedelta(seconds=61)
    assert row.ip == "203.0.113.2"  # the address it was last seen from


# --- expiry ---------------------------------------------------------------------------------------

def test_an_idle_session_ends(db, learner, open_session, signed_in_as, limits, emitted):
    token = open_session(learner, now=T0)
    session_id = learner.session_id
    idle = limits["SESSION_IDLE_SECONDS"]
    assert signed_in_as(token, now=T0 + idle - timedelta(seconds=1)) is learner
    assert signed_in_as(token, now=T0 + idle - timedelta(seconds=1) + idle) is None
    assert row_count(db, learner) == 0
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [session_id]}]


def test_activity_keeps_a_session_alive_until_its_lifetime(learner, open_session, signed_in_as, limits):
    token = open_session(learner, now=T0, remembered=True)
    step = limits["SESSION_IDLE_SECONDS"] / 2
    now = T0
    while now + step < T0 + limits["SESSION_MAX_SECONDS"]:
        now += step
        assert signed_in_as(token, now=now) is learner
    assert signed_in_as(token, now=T0 + limits["SESSION_MAX_SECONDS"]) is None


def test_remember_me_may_idle_longer(learner, open_session, signed_in_as, limits):
    plain, remembered = open_session(learner, now=T0), open_session(learner, now=T0, remembered=True)
    later = T0 + limits["SESSION_IDLE_SECONDS"] + timedelta(minutes=1)
    assert limits["REMEMBER_SESSION_IDLE_SECONDS"] > limits["SESSION_IDLE_SECONDS"]
    assert signed_in_as(plain, now=later) is None
    assert signed_in_as(remembered, now=later) is learner


def test_an_admin_session_idles_out_sooner(learner, reviewer, open_session, signed_in_as, limits):
    learners, admins = open_session(learner, now=T0), open_session(reviewer, now=T0, remembered=True)
    later = T0 + limits["ADMIN_SESSION_IDLE_SECONDS"]
    assert limits["ADMIN_SESSION_IDLE_SECONDS"] < limits["SESSION_IDLE_SECONDS"]
    assert signed_in_as(learners, now=later) is learner
    assert signed_in_as(admins, now=later) is None  # remembered or not


def test_an_admin_session_has_a_shorter_lifetime(reviewer, open_session, signed_in_as, limits):
    token = open_session(reviewer, now=T0)
    step = limits["ADMIN_SESSION_IDLE_SECONDS"] / 2
    now = T0
    while now + step < T0 + limits["ADMIN_SESSION_MAX_SECONDS"]:
        now += step
        assert signed_in_as(token, now=now) is reviewer
    assert limits["ADMIN_SESSION_MAX_SECONDS"] < limits["SESSION_MAX_SECONDS"]
    assert signed_in_as(token, now=T0 + limits["ADMIN_SESSION_MAX_SECONDS"]) is None


def test_limits_are_configurable(app, learner, open_session, signed_in_as, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_SECONDS", 60)
    token = open_session(learner, now=T0)
    assert signed_in_as(token, now=T0 + timedelta(seconds=60)) is None


def test_the_periodic_sweep_ends_only_expired_sessions(db, learner, creator, reviewer, open_session,
                                                       limits, emitted):
    open_session(learner, now=T0)
    stale = learner.session_id
    fresh = open_session(learner, now=T0 + limits["SESSION_IDLE_SECONDS"])
    open_session(reviewer, now=T0 + limits["SESSION_IDLE_SECONDS"] - limits["ADMIN_SESSION_IDLE_SECONDS"])
    stale_admin = reviewer.session_id
    open_session(creator, now=T0 + limits["SESSION_IDLE_SECONDS"], remembered=True)
    now = T0 + limits["SESSION_IDLE_SECONDS"] + timedelta(seconds=1)
    assert sessions.end_expired_sessions(now=now) == 2
    db.session.commit()
    left = set(db.session.scalars(sa.select(UserSession.id)))
    assert stale not in left and stale_admin not in left and len(left) == 2
    assert sessions.resume_session(fresh, now=now).user is learner
    assert sorted(revocations(emitted), key=lambda p: p["user_id"]) == sorted([
        {"user_id": learner.id, "session_ids": [stale]},
        {"user_id": reviewer.id, "session_ids": [stale_admin]}], key=lambda p: p["user_id"])


# --- ending ---------------------------------------------------------------------------------------

def test_log_out_ends_that_session_only(db, learner, open_session, signed_in_as, emitted):
    first = open_session(learner)
    second = open_session(learner)
    second_id = learner.session_id
    assert sessions.end_session(learner, second_id) is True
    db.session.commit()
    assert signed_in_as(second) is None and signed_in_as(first) is learner
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [second_id]}]
    assert sessions.end_session(learner, second_id) is False  # already ended: no second event


def test_log_out_cannot_end_another_users_session(db, learner, creator, open_session, signed_in_as):
    theirs = open_session(creator)
    assert sessions.end_session(learner, creator.session_id) is False
    db.session.commit()
    assert signed_in_as(theirs) is creator


def test_log_out_everywhere_else_keeps_this_session(db, learner, open_session, signed_in_as, emitted):
    others = [open_session(learner), open_session(learner, remembered=True)]
    other_ids = sorted(s.id for s in db.session.scalars(sa.select(UserSession)))
    mine = open_session(learner)
    assert sorted(sessions.end_all_sessions(learner, keep=learner.session_id)) == other_ids
    db.session.commit()
    assert [signed_in_as(t) for t in others] == [None, None] and signed_in_as(mine) is learner
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": other_ids}]


def test_log_out_everywhere_ends_every_session(db, learner, creator, open_session, signed_in_as, emitted):
    mine, theirs = open_session(learner), open_session(creator)
    sessions.end_all_sessions(learner)
    db.session.commit()
    assert signed_in_as(mine) is None and signed_in_as(theirs) is creator
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": None}]


def test_revoking_a_session_of_your_own(db, learner, open_session, signed_in_as, emitted):
    token = open_session(learner)
    session_id = learner.session_id
    sessions.revoke_session(learner, session_id)
    db.session.commit()
    assert signed_in_as(token) is None
    assert revocations(emitted) == [{"user_id": learner.id, "session_ids": [session_id]}]


def test_revoking_another_users_session_is_not_found(db, learner, creator, open_session, signed_in_as,
                                                      emitted):
    theirs = open_session(creator)
    for session_id in (creator.session_id, creator.session_id + 1000):
        with pytest.raises(NotFound):
            sessions.revoke_session(learner, session_id)
    db.session.commit()
    assert signed_in_as(theirs) is creator and revocations(emitted) == []


def test_nothing_is_emitted_if_the_transaction_rolls_back(db, learner, open_session, signed_in_as,
                                                          emitted):
    token = open_session(learner)
    sessions.end_all_sessions(learner)
    db.session.rollback()
    assert revocations(emitted) == [] and signed_in_as(token) is learner


# --- the settings list ----------------------------------------------------------------------------

def test_the_list_shows_live_sessions_this_one_first(db, learner, open_session, limits):
    open_session(learner, now=T0 - limits["SESSION_IDLE_SECONDS"], user_agent="curl/8.0")  # expired
    open_session(learner, now=T0 - timedelta(minutes=5), user_agent=CHROME_LINUX, ip="198.51.100.7")
    open_session(learner, now=T0 - timedelta(minutes=9), user_agent="Mozilla/5.0 (iPhone; CPU iPhone "
                 "OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
    current = learner.session_id
    listed = sessions.list_sessions(learner, now=T0, current_id=current)
    assert [(s.device, s.current) for s in listed] == [("Safari on iPhone", True),
                                                       ("Chrome on Linux", False)]
    assert listed[1].ip == "198.51.100.7" and listed[1].last_seen_at == T0 - timedelta(minutes=5)


def test_a_long_user_agent_is_cut(db, learner, open_session):
    open_session(learner, user_agent="A" * 5000)
    assert len(db.session.get(UserSession, learner.session_id).user_agent) == 255


@pytest.mark.parametrize("user_agent, words", [
    (CHROME_LINUX, "Chrome on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox on macOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", "Safari on macOS"),
    ("curl/8.4.0", "curl"),
    ("", "Unknown device"),
    (None, "Unknown device"),
])
def test_devices_are_described_in_words(user_agent, words):
    assert describe_device(user_agent) == words


def test_the_sweep_runs_every_ten_minutes_as_a_job(db, learner, open_session, signed_in_as, limits):
    token = open_session(learner, now=T0)
    assert (end_expired_sessions_job, "low", 600) in PERIODIC
    assert end_expired_sessions_job(now=T0 + limits["SESSION_IDLE_SECONDS"]) == 1
    assert signed_in_as(token, now=T0) is None  # gone, even for a clock that has not moved
