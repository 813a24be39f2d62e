"""Rate limits on log-in, sign-up and password reset (limits are read per request)."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.web.conftest import link_in, text

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
