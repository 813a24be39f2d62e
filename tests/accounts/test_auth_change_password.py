"""change_password: the signed-in user changes their own password."""
from __future__ import annotations

import pytest

from app.accounts.auth import change_password
from app.accounts.errors import WeakPassword
from app.accounts.passwords import verify_password
from app.errors import Invalid
from tests.factories import PASSWORD

NEW = "a brand new passphrase"


def test_change_with_the_right_current_password(db, learner):
    change_password(learner, current_password=PASSWORD, new_password=NEW)
    db.session.commit()
    assert verify_password(learner.password_hash, NEW)
    assert learner.password_hash.startswith("$argon2id$")


def test_change_ends_every_other_session_and_renews_this_ones_token(db, learner, open_session,
                                                                     signed_in_as, emitted):
    other = open_session(learner)
    other_id = learner.session_id
    mine = open_session(learner)
    mine_id = learner.session_id
    change_password(learner, current_password=PASSWORD, new_password=NEW, current_session_id=mine_id)
    db.session.commit()
    renewed = learner.get_id()
    assert signed_in_as(other) is None
    assert signed_in_as(mine) is None  # a copy of this browser's old cookie is void too
    assert renewed != mine and signed_in_as(renewed).session_id == mine_id
    assert [e.payload for e in emitted if e.name == "accounts.sessions.revoked"] == \
        [{"user_id": learner.id, "session_ids": [other_id]}]


def test_change_without_a_current_session_ends_every_session(db, learner, open_session, signed_in_as):
    token = open_session(learner)
    change_password(learner, current_password=PASSWORD, new_password=NEW)
    db.session.commit()
    assert signed_in_as(token) is None


def test_change_is_confirmed_by_mail_after_commit(db, learner, outbox):
    change_password(learner, current_password=PASSWORD, new_password=NEW)
    assert len(outbox) == 0
    db.session.commit()
    [message] = outbox.messages()
    assert (message["To"], message["Subject"]) == (learner.email, "Your Lyceum password was changed")
    assert "every other session was logged out" in message.get_content()


def test_wrong_current_password_changes_nothing(db, learner, outbox, open_session, signed_in_as):
    token = open_session(learner)
    old_hash = learner.password_hash
    with pytest.raises(Invalid) as caught:
        change_password(learner, current_password="not my password", new_password=NEW)
    assert caught.value.field == "current_password"
    db.session.commit()
    assert learner.password_hash == old_hash
    assert signed_in_as(token) is learner
    assert len(outbox) == 0


def test_weak_new_password_changes_nothing(db, learner, outbox):
    old_hash = learner.password_hash
    with pytest.raises(WeakPassword):
        change_password(learner, current_password=PASSWORD, new_password="short")
    db.session.commit()
    assert learner.password_hash == old_hash
    assert len(outbox) == 0


def test_new_password_equal_to_the_email_local_part_is_refused(make_user):
    user = make_user(email="maximilian@example.test")
    with pytest.raises(WeakPassword):
        change_password(user, current_password=PASSWORD, new_password="maximilian")


def test_account_without_a_password_can_set_one(db, make_user):
    user = make_user(email="social@example.test", password=None)
    change_password(user, current_password="", new_password=NEW)
    db.session.commit()
    assert verify_password(user.password_hash, NEW)
