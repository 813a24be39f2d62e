"""The per-account log-in throttle (app/accounts/throttle.py) through `authenticate`:
exponential back-off per e-mail address after a few wrong passwords."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.auth import authenticate
from app.accounts.errors import InvalidCredentials, LoginThrottled
from tests.factories import PASSWORD

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def fail(email: str, times: int, now: datetime = NOW) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            authenticate(email=email, password="wrong password", now=now)


def test_five_wrong_passwords_make_the_next_attempt_wait_a_minute(learner):
    fail(learner.email, 5)
    with pytest.raises(LoginThrottled) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=NOW + timedelta(seconds=1))
    assert caught.value.status == 429 and caught.value.retry_after == 59
    assert caught.value.message == "Too many attempts for this account; try again in 1 minute."


def test_four_wrong_passwords_cost_nothing(learner):
    fail(learner.email, 4)
    assert authenticate(email=learner.email, password=PASSWORD, now=NOW) is learner


def test_each_further_failure_doubles_the_wait(learner):
    fail(learner.email, 5)
    fail(learner.email, 1, NOW + timedelta(seconds=61))  # allowed again, and wrong again
    with pytest.raises(LoginThrottled) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=NOW + timedelta(seconds=62))
    assert caught.value.message.endswith("try again in 2 minutes.")
    fail(learner.email, 1, NOW + timedelta(seconds=61 + 121))
    with pytest.raises(LoginThrottled) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=NOW + timedelta(seconds=61 + 122))
    assert caught.value.message.endswith("try again in 4 minutes.")


def test_the_wait_is_capped(app, learner, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_MAX_SECONDS", 300)
    later = NOW
    for _ in range(12):
        fail(learner.email, 1, later)
        later += timedelta(hours=1)
    with pytest.raises(LoginThrottled) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=later - timedelta(hours=1))
    assert caught.value.retry_after == 300


def test_the_right_password_is_refused_while_waiting_and_works_after(learner):
    fail(learner.email, 5)
    with pytest.raises(LoginThrottled):
        authenticate(email=learner.email, password=PASSWORD, now=NOW + timedelta(seconds=30))
    assert authenticate(email=learner.email, password=PASSWORD, now=NOW + timedelta(seconds=61)) is learner


def test_a_success_starts_the_count_again(learner):
    fail(learner.email, 4)
    authenticate(email=learner.email, password=PASSWORD, now=NOW)
    fail(learner.email, 4)
    assert authenticate(email=learner.email, password=PASSWORD, now=NOW) is learner


def test_other_accounts_are_not_slowed(learner, creator):
    fail(learner.email, 5)
    assert authenticate(email=creator.email, password=PASSWORD, now=NOW) is creator


def test_the_address_is_matched_whatever_its_case(learner):
    fail(" LEARNER@Example.Test", 5)
    with pytest.raises(LoginThrottled):
        authenticate(email="learner@example.test", password=PASSWORD, now=NOW)


def test_an_unknown_address_is_throttled_exactly_like_a_real_one(learner):
    fail("nobody@example.test", 5)
    fail(learner.email, 5)
    with pytest.raises(LoginThrottled) as unknown:
        authenticate(email="nobody@example.test", password="anything", now=NOW)
    with pytest.raises(LoginThrottled) as real:
        authenticate(email=learner.email, password="anything", now=NOW)
    assert (unknown.value.message, unknown.value.retry_after) == (real.value.message, real.value.retry_after)


def test_zero_free_attempts_turns_the_throttle_off(app, learner, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_THROTTLE_FREE_ATTEMPTS", 0)
    fail(learner.email, 20)
    assert authenticate(email=learner.email, password=PASSWORD, now=NOW) is learner
