"""Notification preferences (app/messaging/preferences.py) and the daily e-mail digest
(app/jobs/digest.py): in-app always, e-mail only for the kinds a user opted into, once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.errors import Invalid
from app.jobs.digest import send_digests
from app.jobs.schedule import PERIODIC
from app.messaging import preferences
from app.messaging.models import Notification, NotificationPreference
from app.messaging.notifications import KINDS, notify
from app.messaging.preferences import digest_kinds, set_digest_kinds


def _notes(db, user, kind="welcome", count=1, **data):
    made = [notify(user, kind, **({"name": "Lena"} | data)) for _ in range(count)]
    db.session.commit()
    return made


def emailed(db, *notes) -> list[bool]:
    db.session.expire_all()
    return [db.session.get(Notification, note.id).emailed_at is not None for note in notes]


# --- preferences ------------------------------------------------------------------------------

def test_nobody_gets_a_digest_by_default(learner):
    assert digest_kinds(learner) == set()


def test_set_digest_kinds_stores_exactly_the_chosen_kinds(db, learner):
    set_digest_kinds(learner, ["welcome", "commerce.sale"])
    db.session.commit()
    assert digest_kinds(learner) == {"welcome", "commerce.sale"}
    set_digest_kinds(learner, ["commerce.sale", "dm.received"])
    db.session.commit()
    assert digest_kinds(learner) == {"commerce.sale", "dm.received"}
    set_digest_kinds(learner, [])
    db.session.commit()
    assert digest_kinds(learner) == set()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationPreference)
                             .where(NotificationPreference.user_id == learner.id)) == 0


def test_choosing_a_kind_twice_keeps_one_row(db, learner):
    set_digest_kinds(learner, ["welcome", "welcome"])
    db.session.commit()
    set_digest_kinds(learner, ["welcome"])
    db.session.commit()
    assert digest_kinds(learner) == {"welcome"}


def test_an_unknown_kind_is_rejected_and_changes_nothing(db, learner):
    set_digest_kinds(learner, ["welcome"])
    db.session.commit()
    with pytest.raises(Invalid, match="Unknown notification kind: made.up") as caught:
        set_digest_kinds(learner, ["commerce.sale", "made.up"])
    assert caught.value.field == "digest" and caught.value.status == 422
    db.session.rollback()
    assert digest_kinds(learner) == {"welcome"}


def test_one_users_choice_leaves_others_alone(db, learner, creator):
    set_digest_kinds(creator, ["commerce.sale"])
    set_digest_kinds(learner, ["welcome"])
    db.session.commit()
    set_digest_kinds(learner, [])
    db.session.commit()
    assert digest_kinds(creator) == {"commerce.sale"}


def test_a_retired_kind_is_ignored(db, learner):
    db.session.add(NotificationPreference(user_id=learner.id, kind="retired.kind", email_digest=True))
    db.session.commit()
    assert digest_kinds(learner) == set()


# --- the digest -------------------------------------------------------------------------------

def test_digest_sends_one_mail_listing_the_opted_in_notifications(db, learner, outbox):
    set_digest_kinds(learner, ["welcome", "commerce.sale"])
    notes = _notes(db, learner, count=2)
    sale = _notes(db, learner, "commerce.sale", title="Python", amount=900, currency="USD")[0]
    assert send_digests() == 1
    assert len(outbox) == 1
    mail = outbox.last()
    assert mail["To"] == learner.email
    assert mail["Subject"] == "Lyceum: 3 new notifications"
    body = mail.get_content()
    assert body.startswith("Hello Lena Learner,")
    assert body.count("- Welcome (") == 2 and "Welcome to Lyceum, Lena!" in body
    assert "- Sale (" in body and "You sold “Python”: $9.00 for you." in body
    assert emailed(db, *notes, sale) == [True, True, True]


def test_running_twice_sends_once(db, learner, outbox):
    set_digest_kinds(learner, ["welcome"])
    _notes(db, learner)
    assert send_digests() == 1
    assert send_digests() == 0
    assert len(outbox) == 1


def test_only_new_notifications_go_in_the_next_digest(db, learner, outbox):
    set_digest_kinds(learner, ["welcome"])
    _notes(db, learner, name="First")
    send_digests()
    _notes(db, learner, name="Second")
    send_digests()
    first, second = (message.get_content() for message in outbox.messages())
    assert "Lyceum, First!" in first and "Lyceum, Second!" in second and "First" not in second
    assert outbox.messages()[1]["Subject"] == "Lyceum: 1 new notification"


def test_kinds_not_opted_into_stay_in_the_app_only(db, learner, creator, outbox):
    set_digest_kinds(learner, ["commerce.sale"])
    welcome = _notes(db, learner)[0]
    _notes(db, creator)  # the creator opted into nothing
    assert send_digests() == 0
    assert len(outbox) == 0 and emailed(db, welcome) == [False]


def test_each_user_gets_their_own_digest(db, learner, creator, outbox):
    for user in (learner, creator):
        set_digest_kinds(user, ["welcome"])
    _notes(db, learner, name="Lena")
    _notes(db, creator, name="Carl")
    assert send_digests() == 2
    by_recipient = {mail["To"]: mail.get_content() for mail in outbox.messages()}
    assert "Lyceum, Lena!" in by_recipient[learner.email] and "Carl" not in by_recipient[learner.email]
    assert "Lyceum, Carl!" in by_recipient[creator.email] and "Lena" not in by_recipient[creator.email]


def test_old_notifications_are_not_mailed(db, learner, outbox):
    set_digest_kinds(learner, ["welcome"])
    old = _notes(db, learner)[0]
    now = datetime.now(UTC) + timedelta(days=8)
    assert send_digests(now=now) == 0
    assert emailed(db, old) == [False] and len(outbox) == 0


def test_a_notification_already_marked_is_never_mailed_again(db, learner, outbox):
    """What a run that crashed after marking (and committing) leaves: the next run skips it."""
    set_digest_kinds(learner, ["welcome"])
    done, pending = _notes(db, learner, count=2)
    db.session.get(Notification, done.id).emailed_at = datetime.now(UTC)
    db.session.commit()
    assert send_digests() == 1
    body = outbox.last().get_content()
    assert body.count("- Welcome (") == 1 and emailed(db, pending) == [True]


def test_a_failed_run_marks_nothing_and_sends_nothing(db, learner, outbox, monkeypatch):
    set_digest_kinds(learner, ["welcome"])
    note = _notes(db, learner)[0]

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(preferences, "send_mail", broken)
    with pytest.raises(RuntimeError):
        send_digests()
    assert emailed(db, note) == [False] and len(outbox) == 0
    monkeypatch.undo()
    assert send_digests() == 1 and emailed(db, note) == [True]


def test_a_user_who_opted_out_since_gets_nothing(db, learner, outbox):
    set_digest_kinds(learner, ["welcome"])
    _notes(db, learner)
    set_digest_kinds(learner, [])
    db.session.commit()
    assert send_digests() == 0 and len(outbox) == 0


def test_digest_links_are_absolute_when_the_site_has_a_name(app, db, learner, outbox, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_NAME", "lyceum.example")
    set_digest_kinds(learner, ["course.updated"])
    _notes(db, learner, "course.updated", title="Python", lesson_title="Loops", course_id=7)
    send_digests()
    body = outbox.last().get_content()
    assert "http://lyceum.example/learn/7" in body
    assert "http://lyceum.example/notifications/preferences" in body


def test_digest_without_a_site_name_has_text_and_no_broken_links(db, learner, outbox):
    set_digest_kinds(learner, ["course.updated"])
    _notes(db, learner, "course.updated", title="Python", lesson_title="Loops", course_id=7)
    send_digests()
    body = outbox.last().get_content()
    assert "New lesson in “Python”: Loops." in body and "None" not in body


def test_every_registered_kind_can_be_chosen(db, learner):
    set_digest_kinds(learner, list(KINDS))
    db.session.commit()
    assert digest_kinds(learner) == set(KINDS)


def test_the_digest_runs_daily_with_the_periodic_jobs():
    assert (send_digests, "low", 24 * 3600) in PERIODIC


def test_run_periodic_sends_the_digest(app, db, learner, outbox):
    set_digest_kinds(learner, ["welcome"])
    _notes(db, learner)
    result = app.test_cli_runner().invoke(args=["run-periodic"])
    assert "ran app.jobs.digest.send_digests" in result.output
    assert len(outbox) == 1
