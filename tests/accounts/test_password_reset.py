"""Password reset by e-mailed link (app/accounts/auth.py)."""
from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.accounts.auth import (
    request_password_reset,
    reset_password,
    user_for_reset_token,
)
from app.accounts.errors import BadToken, WeakPassword
from app.accounts.passwords import verify_password
from app.accounts.tokens import fingerprint, make_token
from tests.factories import PASSWORD

NEW = "a brand new passphrase"
RESET_PATH = "/auth/password/reset/"


@pytest.fixture(autouse=True)
def _in_request(request_ctx):
    pass


@pytest.fixture
def reset_token(db, learner, outbox, link_in):
    """The token from a real reset mail sent to the learner."""
    request_password_reset(email=learner.email)
    db.session.commit()
    return link_in(outbox.last(), RESET_PATH)


def _signed_at(app, payload: dict, seconds_ago: int) -> str:
    """A reset token as make_token would have signed it `seconds_ago` seconds ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="lyceum.password-reset",
                                  signer=Earlier).dumps(payload)


def test_request_for_an_unknown_email_sends_nothing(db, learner, outbox):
    request_password_reset(email="nobody@example.com")
    db.session.commit()
    assert len(outbox) == 0


def test_request_for_an_invalid_email_sends_nothing(db, learner, outbox):
    request_password_reset(email="not an e-mail")
    db.session.commit()
    assert len(outbox) == 0


def test_request_for_a_known_email_mails_a_reset_link(db, make_user, outbox, link_in):
    make_user(email="ada@example.com", display_name="Ada")
    request_password_reset(email="Ada@Example.com")
    assert len(outbox) == 0  # nothing leaves before the commit
    db.session.commit()
    [message] = outbox.messages()
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your Lyceum password"
    assert "within 60 minutes" in message.get_content()
    assert link_in(message, RESET_PATH)


def test_request_matches_the_address_whatever_its_case(db, learner, outbox):
    request_password_reset(email="  LEARNER@Example.Test ")
    db.session.commit()
    assert [m["To"] for m in outbox.messages()] == ["learner@example.test"]


def test_request_rolled_back_sends_nothing(db, learner, outbox):
    request_password_reset(email=learner.email)
    db.session.rollback()
    db.session.commit()
    assert len(outbox) == 0


def test_token_identifies_the_user(learner, reset_token):
    assert user_for_reset_token(reset_token) is learner


def test_reset_changes_the_password(db, learner, reset_token):
    reset_password(token=reset_token, password=NEW)
    db.session.commit()
    assert verify_password(learner.password_hash, NEW)
    assert not verify_password(learner.password_hash, PASSWORD)


def test_reset_ends_every_session(db, learner, reset_token, open_session, signed_in_as, emitted):
    tokens = [open_session(learner), open_session(learner, remembered=True)]
    reset_password(token=reset_token, password=NEW)
    db.session.commit()
    assert [signed_in_as(token) for token in tokens] == [None, None]
    assert [e.payload for e in emitted if e.name == "accounts.sessions.revoked"] == \
        [{"user_id": learner.id, "session_ids": None}]


def test_reset_tells_the_user_by_mail(db, learner, reset_token, outbox):
    reset_password(token=reset_token, password=NEW)
    db.session.commit()
    assert outbox.last()["Subject"] == "Your Lyceum password was changed"
    assert outbox.last()["To"] == learner.email


def test_token_works_only_once(db, reset_token):
    reset_password(token=reset_token, password=NEW)
    db.session.commit()
    with pytest.raises(BadToken):
        reset_password(token=reset_token, password="yet another passphrase")


def test_token_stops_working_once_the_password_changed_another_way(db, learner, reset_token):
    learner.password_hash = "$argon2id$changed-elsewhere"
    db.session.commit()
    with pytest.raises(BadToken):
        user_for_reset_token(reset_token)


@pytest.mark.parametrize("token", ["", "garbage", "eyJ1aWQiOjF9.Zz.forged"])
def test_garbage_token_is_refused(token):
    with pytest.raises(BadToken) as caught:
        user_for_reset_token(token)
    assert caught.value.status == 422
    assert "invalid or has expired" in caught.value.message


def test_token_signed_with_another_key_is_refused(learner):
    forged = URLSafeTimedSerializer("not-our-secret", salt="lyceum.password-reset").dumps(
        {"uid": learner.id, "fp": fingerprint(learner.password_hash)})
    with pytest.raises(BadToken):
        reset_password(token=forged, password=NEW)


def test_token_made_for_another_purpose_is_refused(learner):
    other = make_token("email-change", {"uid": learner.id, "fp": fingerprint(learner.password_hash)})
    with pytest.raises(BadToken):
        user_for_reset_token(other)


def test_expired_token_is_refused(app, learner):
    payload = {"uid": learner.id, "fp": fingerprint(learner.password_hash)}
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    assert user_for_reset_token(_signed_at(app, payload, max_age - 60)) is learner
    with pytest.raises(BadToken):
        user_for_reset_token(_signed_at(app, payload, max_age + 60))


def test_max_age_follows_the_configuration(app, learner):
    payload = {"uid": learner.id, "fp": fingerprint(learner.password_hash)}
    token = _signed_at(app, payload, 10 * 60)
    original = app.config["PASSWORD_RESET_MAX_AGE"]
    app.config["PASSWORD_RESET_MAX_AGE"] = 5 * 60
    try:
        with pytest.raises(BadToken):
            user_for_reset_token(token)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = original
    assert user_for_reset_token(token) is learner


def test_token_for_a_deleted_user_is_refused(db, learner):
    token = make_token("password-reset", {"uid": learner.id, "fp": fingerprint(learner.password_hash)})
    db.session.delete(learner)
    db.session.commit()
    with pytest.raises(BadToken):
        user_for_reset_token(token)


def test_weak_new_password_is_refused_and_nothing_changes(db, learner, reset_token, outbox,
                                                           open_session, signed_in_as):
    token = open_session(learner)
    old_hash, mails = learner.password_hash, len(outbox)
    with pytest.raises(WeakPassword):
        reset_password(token=reset_token, password="password123")
    db.session.commit()
    assert learner.password_hash == old_hash and signed_in_as(token) is learner
    assert len(outbox) == mails
    assert user_for_reset_token(reset_token) is learner  # the link still works


def test_new_password_equal_to_the_name_is_refused(learner, reset_token):
    with pytest.raises(WeakPassword):
        reset_password(token=reset_token, password="Lena Learner")
