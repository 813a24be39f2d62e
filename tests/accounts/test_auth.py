"""authenticate (app/accounts/auth.py); the session loader is in test_sessions.py."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from app.accounts.auth import authenticate
from app.accounts.errors import AccountSuspended, InvalidCredentials
from app.accounts.passwords import verify_password
from tests.factories import PASSWORD

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def _suspend(db, user, *, reason="spam", until=None, at=None):
    user.suspended_at = at or datetime(2030, 5, 1, tzinfo=UTC)
    user.suspended_until = until
    user.suspension_reason = reason
    db.session.commit()


def test_right_password_returns_the_user(learner):
    assert authenticate(email="learner@example.test", password=PASSWORD) is learner


def test_email_is_matched_whatever_its_case_and_spaces(learner):
    assert authenticate(email="  LEARNER@Example.TEST ", password=PASSWORD) is learner


def test_wrong_password_is_refused(learner):
    with pytest.raises(InvalidCredentials) as caught:
        authenticate(email="learner@example.test", password=PASSWORD + "x")
    assert caught.value.status == 422


def test_unknown_email_gets_the_same_message_as_a_wrong_password(learner):
    with pytest.raises(InvalidCredentials) as wrong_password:
        authenticate(email="learner@example.test", password="not the password")
    with pytest.raises(InvalidCredentials) as unknown_email:
        authenticate(email="nobody@example.test", password=PASSWORD)
    assert unknown_email.value.message == wrong_password.value.message == "Wrong e-mail or password."


def test_empty_email_is_refused_like_an_unknown_one(learner):
    with pytest.raises(InvalidCredentials):
        authenticate(email="", password=PASSWORD)


def test_account_without_a_password_cannot_log_in_with_one(make_user):
    make_user(email="social@example.test", password=None)
    with pytest.raises(InvalidCredentials):
        authenticate(email="social@example.test", password="")
    with pytest.raises(InvalidCredentials):
        authenticate(email="social@example.test", password=PASSWORD)


def test_suspended_user_is_told_the_reason(db, learner):
    _suspend(db, learner, reason="Posting spam in course chats")
    with pytest.raises(AccountSuspended) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=NOW)
    assert caught.value.status == 403
    assert caught.value.message == "Your account is suspended: Posting spam in course chats"


def test_suspended_user_is_told_the_end_date(db, learner):
    _suspend(db, learner, reason="Spam", until=datetime(2030, 7, 15, tzinfo=UTC))
    with pytest.raises(AccountSuspended) as caught:
        authenticate(email=learner.email, password=PASSWORD, now=NOW)
    assert caught.value.message == "Your account is suspended until 15 Jul 2030: Spam"


def test_suspended_user_with_a_wrong_password_learns_nothing_about_the_suspension(db, learner):
    _suspend(db, learner, reason="Spam")
    with pytest.raises(InvalidCredentials):
        authenticate(email=learner.email, password="not the password", now=NOW)


def test_expired_suspension_lets_the_user_in(db, learner):
    _suspend(db, learner, until=NOW - timedelta(seconds=1))
    assert authenticate(email=learner.email, password=PASSWORD, now=NOW) is learner


def test_suspension_ending_later_still_refuses(db, learner):
    _suspend(db, learner, until=NOW + timedelta(seconds=1))
    with pytest.raises(AccountSuspended):
        authenticate(email=learner.email, password=PASSWORD, now=NOW)


def test_hash_made_with_other_costs_is_upgraded_on_log_in(db, make_user):
    user = make_user(email="old@example.test")
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=2048).hash(PASSWORD)
    db.session.commit()
    old_hash = user.password_hash
    authenticate(email="old@example.test", password=PASSWORD)
    db.session.commit()
    assert user.password_hash != old_hash
    assert "t=1," in user.password_hash and verify_password(user.password_hash, PASSWORD)
