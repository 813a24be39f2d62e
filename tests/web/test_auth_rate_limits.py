"""Rate limits on log-in, sign-up and password reset (limits are read per request)."""
from __future__ import annotations

import pytest

from app.extensions import limiter
from tests.factories import PASSWORD
from tests.support.pages import link_in, text

TOO_OFTEN = "You are doing that too often. Wait a little and try again."


@pytest.fixture
def limit(app, monkeypatch):
    """`limit("RATELIMIT_LOGIN")` lowers that limit to 3 a minute for this test only."""

    def lower(key: str, value: str = "3 per minute"):
        monkeypatch.setitem(app.config, key, value)

    return lower


def assert_too_many(resp):
    assert resp.status_code == 429
    assert b"<html" in resp.data and b"Too many requests" in resp.data
    assert TOO_OFTEN in text(resp)
    assert int(resp.headers["Retry-After"]) > 0


def test_fourth_login_attempt_in_a_minute_is_refused(client, learner, limit):
    limit("RATELIMIT_LOGIN")
    for _ in range(3):
        resp = client.post("/auth/login", data={"email": learner.email, "password": "wrong"})
        assert resp.status_code == 422
    assert_too_many(client.post("/auth/login", data={"email": learner.email, "password": PASSWORD}))
    assert client.get("/dashboard/").status_code == 302  # the right password did not get in


def test_login_limit_counts_successful_attempts_too(client, learner, limit):
    limit("RATELIMIT_LOGIN")
    for _ in range(3):
        client.post("/auth/login", data={"email": learner.email, "password": PASSWORD})
        client.post("/auth/logout")
    assert_too_many(client.post("/auth/login", data={"email": learner.email, "password": PASSWORD}))


def test_login_limit_does_not_count_page_views(client, learner, limit):
    limit("RATELIMIT_LOGIN")
    for _ in range(5):
        assert client.get("/auth/login").status_code == 200
    assert client.post("/auth/login", data={"email": learner.email, "password": PASSWORD}).status_code == 302


def test_rate_limited_htmx_request_gets_an_alert_fragment(htmx, learner, limit):
    limit("RATELIMIT_LOGIN")
    for _ in range(3):
        htmx.post("/auth/login", data={"email": learner.email, "password": "wrong"})
    resp = htmx.post("/auth/login", data={"email": learner.email, "password": "wrong"})
    assert resp.status_code == 429
    assert b"<html" not in resp.data and resp.headers["HX-Retarget"] == "#alerts"
    assert TOO_OFTEN in text(resp)


def test_default_login_limit_allows_a_few_mistakes(client, learner):
    for _ in range(5):
        assert client.post("/auth/login", data={"email": learner.email, "password": "x"}).status_code == 422


def test_fourth_signup_in_a_minute_is_refused(client, limit):
    limit("RATELIMIT_SIGNUP")
    for n in range(3):
        resp = client.post("/auth/signup", data={"display_name": f"Bot {n}", "email": f"bot{n}@example.test",
                                                 "password": "short"})
        assert resp.status_code == 422
    resp = client.post("/auth/signup", data={"display_name": "Bot", "email": "bot@example.test",
                                             "password": "plenty of entropy here"})
    assert_too_many(resp)
    assert client.get("/dashboard/").status_code == 302


def test_fourth_password_reset_request_in_a_minute_is_refused(client, learner, limit, outbox):
    limit("RATELIMIT_PASSWORD_RESET")
    for _ in range(3):
        assert client.post("/auth/password/forgot", data={"email": learner.email}).status_code == 302
    assert_too_many(client.post("/auth/password/forgot", data={"email": learner.email}))
    assert len(outbox) == 3


def test_setting_a_new_password_is_limited_too(client, learner, limit, outbox):
    client.post("/auth/password/forgot", data={"email": learner.email})
    link = link_in(outbox.last(), "/auth/password/reset/")
    limit("RATELIMIT_PASSWORD_RESET")
    for _ in range(3):
        assert client.post(link, data={"password": "short"}).status_code == 422
    assert_too_many(client.post(link, data={"password": "a much better passphrase"}))


def test_no_declared_limit_applies_to_a_read(app):
    """Reads skip the limiter (app.extensions._reads_are_not_limited): a limit on a GET
    would be silently ignored, so none may be declared."""
    from flask_limiter.util import get_qualified_name


    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for declared in limiter.limit_manager.decorated_limits(get_qualified_name(view)):
            checked += 1
            applies_to = {m.upper() for m in declared.methods} if declared.methods else rule.methods
            assert not applies_to & {"GET", "HEAD"}, (rule.rule, declared)
    assert checked >= 5  # sign-up, log-in, two password-reset steps, checkout


def test_page_views_carry_no_rate_limit_headers_and_posts_do(client, limit):
    assert "X-RateLimit-Limit" not in client.get("/auth/login").headers
    assert "X-RateLimit-Limit" in client.post("/auth/login", data={"email": "a@b.c", "password": "x"}).headers
