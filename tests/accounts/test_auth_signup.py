"""sign_up (app/accounts/auth.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.auth import sign_up
from app.accounts.errors import EmailTaken, WeakPassword
from app.accounts.models import User
from app.errors import Invalid
from app.messaging.models import Notification

GOOD = "correct horse battery"


def _user_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_sign_up_creates_the_user(db):
    user = sign_up(email="ada@example.com", display_name="Ada Lovelace", password=GOOD)
    db.session.commit()
    assert user.id is not None
    assert (user.email, user.display_name) == ("ada@example.com", "Ada Lovelace")
    assert user.permissions == frozenset()


def test_email_is_stored_lower_case_and_trimmed(db):
    user = sign_up(email="  Ada.Lovelace@Example.COM ", display_name="Ada", password=GOOD)
    assert user.email == "ada.lovelace@example.com"


def test_display_name_whitespace_is_collapsed(db):
    user = sign_up(email="ada@example.com", display_name="  Ada \t  Lovelace ", password=GOOD)
    assert user.display_name == "Ada Lovelace"


def test_password_is_stored_as_an_argon2id_hash(db):
    user = sign_up(email="ada@example.com", display_name="Ada", password=GOOD)
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash


def test_signed_up_is_emitted_only_after_commit(db, emitted):
    user = sign_up(email="ada@example.com", display_name="Ada", password=GOOD)
    assert emitted == []
    db.session.commit()
    signed_up = [e for e in emitted if e.name == "accounts.user.signed_up"]
    assert [e.payload for e in signed_up] == [{"user_id": user.id}]


def test_no_event_when_the_sign_up_is_rolled_back(db, emitted):
    sign_up(email="ada@example.com", display_name="Ada", password=GOOD)
    db.session.rollback()
    db.session.commit()
    assert emitted == []


def test_welcome_notification_is_stored_for_the_new_user(db, emitted):
    user = sign_up(email="ada@example.com", display_name="Ada", password=GOOD)
    db.session.commit()
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all()
    assert [(n.kind, n.data) for n in notes] == [("welcome", {"name": "Ada"})]
    created = [e.payload for e in emitted if e.name == "messaging.notification.created"]
    assert created == [{"notification_id": notes[0].id, "user_id": user.id}]


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com", " Taken@Example.Com "])
def test_email_already_used_is_refused_whatever_its_case(db, make_user, email):
    make_user(email="taken@example.com")
    before = _user_count(db)
    with pytest.raises(EmailTaken) as caught:
        sign_up(email=email, display_name="Second", password=GOOD)
    assert caught.value.status == 409 and caught.value.field == "email"
    assert _user_count(db) == before


@pytest.mark.parametrize("email", ["", "not-an-email", "ada@", "@example.com", "ada@@example.com",
                                   "ada example@example.com", "ada@localhost"])
def test_invalid_email_is_refused(db, email):
    with pytest.raises(Invalid) as caught:
        sign_up(email=email, display_name="Ada", password=GOOD)
    assert caught.value.field == "email"
    assert _user_count(db) == 0


@pytest.mark.parametrize("password, reason", [
    ("short1!", "at least 10 characters"),
    ("123456789", "at least 10 characters"),
    ("password123", "too common"),
    ("PASSWORD123", "too common"),
    ("qwertyuiop", "too common"),
])
def test_weak_password_is_refused(db, password, reason):
    with pytest.raises(WeakPassword, match=reason) as caught:
        sign_up(email="ada@example.com", display_name="Ada", password=password)
    assert caught.value.status == 422 and caught.value.field == "password"
    assert _user_count(db) == 0


def test_password_equal_to_the_email_local_part_is_refused(db):
    with pytest.raises(WeakPassword, match="e-mail or name"):
        sign_up(email="maximilian@example.com", display_name="Max", password="Maximilian")


def test_password_equal_to_the_display_name_is_refused(db):
    with pytest.raises(WeakPassword, match="e-mail or name"):
        sign_up(email="ada@example.com", display_name="Ada Lovelace 1815",
                password="ada lovelace 1815")


def test_password_of_exactly_ten_characters_is_enough(db):
    user = sign_up(email="ada@example.com", display_name="Ada", password="xk3!vq9#tz")
    assert user.id is not None


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_display_name_is_refused(db, name):
    with pytest.raises(Invalid, match="Enter your name") as caught:
        sign_up(email="ada@example.com", display_name=name, password=GOOD)
    assert caught.value.field == "display_name"
    assert _user_count(db) == 0


def test_display_name_over_80_characters_is_refused(db):
    with pytest.raises(Invalid, match="under 80") as caught:
        sign_up(email="ada@example.com", display_name="A" * 81, password=GOOD)
    assert caught.value.field == "display_name"
    assert _user_count(db) == 0


def test_display_name_of_80_characters_is_accepted(db):
    assert sign_up(email="ada@example.com", display_name="A" * 80, password=GOOD).display_name == "A" * 80


def test_failed_sign_up_emits_nothing(db, emitted):
    with pytest.raises(WeakPassword):
        sign_up(email="ada@example.com", display_name="Ada", password="short")
    db.session.commit()
    assert emitted == []
