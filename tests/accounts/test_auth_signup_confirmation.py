"""Sign-up by e-mailed link (app/accounts/auth.py: prepare_sign_up, finish_sign_up,
confirm_sign_up): the same work for a new and a taken address; the mail tells the owner."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.auth import confirm_sign_up, finish_sign_up, prepare_sign_up, user_for_sign_up_token
from app.accounts.errors import BadToken, WeakPassword
from app.accounts.models import User
from app.accounts.passwords import verify_password
from app.accounts.tokens import make_token
from tests.factories import PASSWORD

GOOD = "correct horse battery"
CONFIRM_PATH = "/auth/signup/confirm/"


@pytest.fixture(autouse=True)
def _in_request(request_ctx):
    pass


def _user_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_prepare_checks_the_input_and_hashes_without_touching_the_database(db):
    with pytest.raises(WeakPassword):
        prepare_sign_up(email="ada@example.com", display_name="Ada", password="password123")
    pending = prepare_sign_up(email=" Ada@Example.COM ", display_name=" Ada  L ", password=GOOD)
    assert pending["email"] == "ada@example.com" and pending["display_name"] == "Ada L"
    assert verify_password(pending["password_hash"], GOOD)
    assert _user_count(db) == 0


def test_finishing_creates_an_unconfirmed_account_and_mails_its_link(db, outbox, link_in):
    user = finish_sign_up(**prepare_sign_up(email="ada@example.com", display_name="Ada", password=GOOD))
    db.session.commit()
    assert user.id is not None and user.email_verified_at is None
    mail = outbox.last()
    assert (mail["To"], mail["Subject"]) == ("ada@example.com", "Finish signing up to Lyceum")
    assert "within 24 hours" in mail.get_content()
    assert user_for_sign_up_token(link_in(mail, CONFIRM_PATH)) is user


def test_finishing_for_a_taken_address_changes_nothing_and_tells_the_owner(db, learner, outbox):
    before = (learner.display_name, learner.password_hash, _user_count(db))
    pending = prepare_sign_up(email="LEARNER@example.test", display_name="Mallory", password=GOOD)
    assert finish_sign_up(**pending) is None
    db.session.commit()
    assert (learner.display_name, learner.password_hash, _user_count(db)) == before
    [mail] = outbox.messages()
    assert (mail["To"], mail["Subject"]) == (learner.email, "Someone tried to sign up with your e-mail address")
    assert "Hello Lena Learner" in mail.get_content() and GOOD not in mail.get_content()
    assert verify_password(learner.password_hash, PASSWORD)


def test_confirming_marks_the_address_and_works_once(db, outbox, link_in):
    finish_sign_up(**prepare_sign_up(email="ada@example.com", display_name="Ada", password=GOOD))
    db.session.commit()
    token = link_in(outbox.last(), CONFIRM_PATH)
    user = confirm_sign_up(token=token)
    db.session.commit()
    assert user.email_verified_at is not None
    with pytest.raises(BadToken):
        confirm_sign_up(token=token)


def test_a_link_made_for_another_purpose_is_refused(db, learner):
    other = make_token("password-reset", {"uid": learner.id, "fp": "x"})
    with pytest.raises(BadToken):
        user_for_sign_up_token(other)
