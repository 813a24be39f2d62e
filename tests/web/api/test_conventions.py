"""What every API response shares: rate limits per token with RateLimit-* headers, ETags,
caching rules, and no CSRF (a bearer token is not an ambient credential)."""
from __future__ import annotations

import pytest

from tests.support.api import ApiClient, assert_problem, token_for


@pytest.fixture
def tight_limits(app):
    saved = app.config["API_RATE_LIMIT"], app.config["API_ANONYMOUS_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"], app.config["API_ANONYMOUS_RATE_LIMIT"] = "3 per minute", "2 per minute"
    yield
    app.config["API_RATE_LIMIT"], app.config["API_ANONYMOUS_RATE_LIMIT"] = saved


def test_each_token_has_its_own_rate_limit_reads_included(client, learner, creator, tight_limits):
    first, second = ApiClient(client, token_for(learner)), ApiClient(client, token_for(creator))
    answers = [first.get("/api/v1/me") for _ in range(3)]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 60
    refused = first.get("/api/v1/me")
    body = assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "3 per" in body["detail"]
    assert second.get("/api/v1/me").status_code == 200  # another token: its own budget


def test_calls_without_a_token_are_limited_per_address(anonymous, tight_limits):
    assert [anonymous.get("/api/v1/categories").status_code for _ in range(3)] == [200, 200, 429]


def test_reads_carry_an_etag_and_answer_304_when_unchanged(anonymous, api, learner):
    first = anonymous.get("/api/v1/categories")
    assert first.headers["ETag"] and first.headers["Cache-Control"] == "no-cache"
    again = anonymous.get("/api/v1/categories", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    mine = api(learner).get("/api/v1/me")
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in mine.headers["Vary"]
    changed = anonymous.get("/api/v1/categories", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_no_csrf_token_is_needed_and_cookies_grant_nothing(client, learner, login):
    login(learner)
    resp = client.post("/api/v1/me")  # a cross-site form post would carry the cookie only
    assert resp.status_code in (401, 405)
    assert resp.mimetype == "application/problem+json"
