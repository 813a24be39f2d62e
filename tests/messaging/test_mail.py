"""The mail service (app/messaging/mail.py): rendered now, delivered after commit."""
from __future__ import annotations

from app.accounts.models import User
from app.messaging.mail import send_mail


def _open_transaction(db):
    db.session.add(User(email="txn@example.com", display_name="Txn"))
    db.session.flush()


def test_mail_is_delivered_only_after_commit(db, learner, outbox):
    _open_transaction(db)
    send_mail("someone@example.com", "Hello", "password_changed", user=learner)
    assert len(outbox) == 0
    db.session.commit()
    [message] = outbox.messages()
    assert message["To"] == "someone@example.com"
    assert message["Subject"] == "Hello"
    assert message["From"] == "Lyceum <no-reply@lyceum.test>"
    assert "Hello Lena Learner," in message.get_content()


def test_mail_is_not_sent_when_the_transaction_rolls_back(db, learner, outbox):
    _open_transaction(db)
    send_mail("someone@example.com", "Hello", "password_changed", user=learner)
    db.session.rollback()
    db.session.commit()
    assert len(outbox) == 0


def test_mail_can_be_sent_outside_a_request(db, learner, outbox):
    # Jobs, the CLI and event subscribers have no request; mail must not need one.
    _open_transaction(db)
    send_mail(learner.email, "Changed", "email_changed", user=learner, new_email="new@example.com")
    db.session.commit()
    assert "changed to new@example.com" in outbox.last().get_content()


def test_mail_text_is_not_html_escaped(db, make_user, outbox):
    user = make_user(display_name="Tom & Jerry <3")
    _open_transaction(db)
    send_mail(user.email, "Hi", "password_changed", user=user)
    db.session.commit()
    assert "Hello Tom & Jerry <3," in outbox.last().get_content()


def test_two_mails_in_one_transaction_are_both_delivered(db, learner, outbox):
    _open_transaction(db)
    send_mail("a@example.com", "First", "password_changed", user=learner)
    send_mail("b@example.com", "Second", "password_changed", user=learner)
    db.session.commit()
    assert sorted(m["To"] for m in outbox.messages()) == ["a@example.com", "b@example.com"]
