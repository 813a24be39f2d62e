"""The per-account log-in throttle over HTTP, behind a proxy: a guess spread over many
client addresses is slowed for that account only, with a clear message."""
from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.support.pages import HX, text

THROTTLED = "Too many attempts for this account; try again in 1 minute."


@pytest.fixture(autouse=True)
def behind_proxy(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROXY_TRUSTED_HOPS", 1)


def attempt(client, email: str, password: str, ip: str, headers=None):
    return client.post("/auth/login", data={"email": email, "password": password},
                       headers={"X-Forwarded-For": ip, **(headers or {})})


def test_a_guess_from_many_addresses_is_slowed_for_that_account(client, learner):
    for n in range(5):
        assert attempt(client, learner.email, f"guess {n}", f"203.0.113.{n}").status_code == 422
    resp = attempt(client, learner.email, PASSWORD, "203.0.113.77")  # even the right one waits
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert b"<html" in resp.data and THROTTLED in text(resp)
    assert client.get("/dashboard/").status_code == 302  # not signed in


def test_other_accounts_log_in_as_usual_from_the_same_addresses(client, learner, creator):
    for n in range(5):
        attempt(client, learner.email, "wrong", f"203.0.113.{n}")
    assert attempt(client, creator.email, PASSWORD, "203.0.113.1").status_code == 302


def test_an_unknown_address_gets_the_same_answer(client, learner):
    for n in range(5):
        attempt(client, learner.email, "wrong", f"203.0.113.{n}")
        attempt(client, "nobody@example.test", "wrong", f"198.51.100.{n}")
    real = attempt(client, learner.email, "wrong", "192.0.2.1")
    unknown = attempt(client, "nobody@example.test", "wrong", "192.0.2.2")
    assert (real.status_code, unknown.status_code) == (429, 429)
    assert THROTTLED in text(real) and THROTTLED in text(unknown)
    assert real.headers["Retry-After"] == unknown.headers["Retry-After"]


def test_a_successful_log_in_resets_the_count(client, learner):
    for n in range(4):
        attempt(client, learner.email, "wrong", f"203.0.113.{n}")
    assert attempt(client, learner.email, PASSWORD, "203.0.113.9").status_code == 302
    client.post("/auth/logout")
    for n in range(4):
        assert attempt(client, learner.email, "wrong", f"203.0.113.{n}").status_code == 422
    assert attempt(client, learner.email, PASSWORD, "203.0.113.9").status_code == 302


def test_over_htmx_the_form_fragment_says_so(client, learner):
    for n in range(5):
        attempt(client, learner.email, "wrong", f"203.0.113.{n}")
    resp = attempt(client, learner.email, PASSWORD, "203.0.113.8", headers=HX)
    assert resp.status_code == 429 and b"<html" not in resp.data
    assert THROTTLED in text(resp) and 'name="email"' in text(resp)
