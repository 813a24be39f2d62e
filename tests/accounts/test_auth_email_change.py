"""Changing the e-mail address: a link to the new address, then confirmation."""
from __future__ import annotations

import pytest

from app.accounts.auth import confirm_email_change, request_email_change
from app.accounts.errors import BadToken, EmailTaken
from app.accounts.tokens import make_token, read_token
from app.errors import Invalid
from tests.factories import PASSWORD

CONFIRM_PATH = "/auth/email/confirm/"


@pytest.fixture(autouse=True)
def _in_request(request_ctx):
    pass


@pytest.fixture
def change_token(db, learner, outbox, link_in):
    """The token from a real confirmation mail for learner -> new@example.com."""
    request_email_change(learner, new_email="new@example.com", password=PASSWORD)
    db.session.commit()
    return link_in(outbox.last(), CONFIRM_PATH)


def test_request_mails_a_confirmation_link_to_the_new_address(db, learner, outbox, link_in):
    request_email_change(learner, new_email="New@Example.com", password=PASSWORD)
    assert len(outbox) == 0
    db.session.commit()
    [message] = outbox.messages()
    assert (message["To"], message["Subject"]) == ("new@example.com", "Confirm your new e-mail address")
    assert link_in(message, CONFIRM_PATH)


def test_request_changes_nothing_yet(db, learner, change_token):
    assert learner.email == "learner@example.test"


def test_request_with_a_wrong_password_is_refused(db, learner, outbox):
    with pytest.raises(Invalid) as caught:
        request_email_change(learner, new_email="new@example.com", password="wrong")
    assert caught.value.field == "password"
    db.session.commit()
    assert len(outbox) == 0


def test_request_for_the_current_address_is_refused(learner):
    with pytest.raises(Invalid, match="already your e-mail") as caught:
        request_email_change(learner, new_email="LEARNER@example.test", password=PASSWORD)
    assert caught.value.field == "new_email"


def test_request_for_an_address_in_use_is_refused(learner, creator):
    with pytest.raises(Invalid, match="already exists") as caught:
        request_email_change(learner, new_email="Creator@Example.test", password=PASSWORD)
    assert caught.value.field == "new_email"


def test_request_for_an_invalid_address_is_refused(learner):
    with pytest.raises(Invalid):
        request_email_change(learner, new_email="not an address", password=PASSWORD)


def test_account_without_a_password_can_ask_without_one(db, make_user, outbox):
    user = make_user(email="social@example.test", password=None)
    request_email_change(user, new_email="new@example.com", password="")
    db.session.commit()
    assert [m["To"] for m in outbox.messages()] == ["new@example.com"]


def test_confirm_changes_the_address_and_marks_it_verified(db, learner, change_token):
    assert confirm_email_change(token=change_token) is learner
    db.session.commit()
    assert learner.email == "new@example.com"
    assert learner.email_verified_at is not None


def test_confirm_ends_every_session(db, learner, open_session, signed_in_as, emitted, outbox, link_in):
    tokens = [open_session(learner), open_session(learner, remembered=True)]
    request_email_change(learner, new_email="new@example.com", password=PASSWORD)
    db.session.commit()
    assert [signed_in_as(token) for token in tokens] == [learner, learner]  # asking ends nothing
    confirm_email_change(token=link_in(outbox.last(), CONFIRM_PATH))
    db.session.commit()
    assert [signed_in_as(token) for token in tokens] == [None, None]
    assert [e.payload for e in emitted if e.name == "accounts.sessions.revoked"] == \
        [{"user_id": learner.id, "session_ids": None}]


def test_confirm_tells_the_old_address(db, learner, change_token, outbox):
    confirm_email_change(token=change_token)
    db.session.commit()
    message = outbox.last()
    assert (message["To"], message["Subject"]) == ("learner@example.test",
                                                   "Your Lyceum e-mail address was changed")
    assert "new@example.com" in message.get_content()


def test_token_works_only_once(db, change_token):
    confirm_email_change(token=change_token)
    db.session.commit()
    with pytest.raises(BadToken):
        confirm_email_change(token=change_token)


def test_address_taken_meanwhile_is_refused(db, learner, make_user, change_token):
    make_user(email="new@example.com")
    with pytest.raises(EmailTaken):
        confirm_email_change(token=change_token)
    db.session.rollback()
    assert learner.email == "learner@example.test"


def test_token_is_void_once_the_address_changed_another_way(db, learner, change_token, link_in,
                                                           outbox):
    request_email_change(learner, new_email="other@example.com", password=PASSWORD)
    db.session.commit()
    confirm_email_change(token=link_in(outbox.last(), CONFIRM_PATH))
    db.session.commit()
    with pytest.raises(BadToken):
        confirm_email_change(token=change_token)
    assert learner.email == "other@example.com"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_garbage_token_is_refused(token):
    with pytest.raises(BadToken):
        confirm_email_change(token=token)


def test_same_payload_signed_for_another_purpose_is_refused(db, learner, change_token):
    payload = read_token("email-change", change_token, 60)
    with pytest.raises(BadToken):
        confirm_email_change(token=make_token("password-reset", payload))
    assert confirm_email_change(token=make_token("email-change", payload)) is learner


def test_old_token_stays_void_after_changing_away_and_back(db, learner, change_token, link_in,
                                                           outbox):
    # learner -> new@example.com (confirmed), then back to the first address; replaying the
    # first link from new@example.com's mailbox must not take the address away again.
    confirm_email_change(token=change_token)
    db.session.commit()
    request_email_change(learner, new_email="learner@example.test", password=PASSWORD)
    db.session.commit()
    confirm_email_change(token=link_in(outbox.last(), CONFIRM_PATH))
    db.session.commit()
    assert learner.email == "learner@example.test"
    with pytest.raises(BadToken):
        confirm_email_change(token=change_token)
