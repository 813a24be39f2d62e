"""Notifications (app/messaging/notifications.py): stored, counted, read, emitted."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.errors import Invalid, NotAllowed, NotFound
from app.messaging.models import Notification
from app.messaging.notifications import (
    describe,
    list_notifications,
    mark_all_read,
    mark_read,
    notify,
    unread_count,
)

WHEN = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)


def test_notify_stores_the_row(db, learner):
    note = notify(learner, "welcome", name="Lena")
    db.session.commit()
    stored = db.session.get(Notification, note.id)
    assert (stored.user_id, stored.kind, stored.data, stored.read_at) == \
        (learner.id, "welcome", {"name": "Lena"}, None)


def test_notify_emits_created_with_the_id_after_commit(db, learner, emitted):
    note = notify(learner, "welcome", name="Lena")
    assert emitted == []
    db.session.commit()
    assert [(e.name, e.payload) for e in emitted] == [
        ("messaging.notification.created", {"notification_id": note.id, "user_id": learner.id})]


def test_notify_rolled_back_emits_nothing(db, learner, emitted):
    notify(learner, "welcome", name="Lena")
    db.session.rollback()
    db.session.commit()
    assert emitted == []
    assert unread_count(learner) == 0


def test_unknown_kind_is_invalid(db, learner, emitted):
    with pytest.raises(Invalid, match="Unknown notification kind 'made.up'"):
        notify(learner, "made.up")
    db.session.commit()
    assert emitted == [] and unread_count(learner) == 0


def test_describe_builds_the_sentence_and_link(db, learner):
    text, url = describe(notify(learner, "welcome", name="Lena"))
    assert text.startswith("Welcome to Lyceum, Lena!") and url == "/dashboard"


def test_describe_keeps_rows_of_a_kind_that_no_longer_exists_readable(learner):
    assert describe(Notification(user_id=learner.id, kind="retired.kind", data={"text": "Old news"})) \
        == ("Old news", None)
    assert describe(Notification(user_id=learner.id, kind="retired.kind", data={})) == \
        ("retired.kind", None)


def test_unread_count_counts_only_my_unread(db, learner, creator):
    notify(learner, "welcome")
    notify(learner, "welcome")
    notify(creator, "welcome")
    db.session.commit()
    assert unread_count(learner) == 2 and unread_count(creator) == 1


def test_mark_read_marks_my_notification(db, learner):
    note = notify(learner, "welcome")
    db.session.commit()
    mark_read(learner, note.id, now=WHEN)
    db.session.commit()
    assert note.read_at == WHEN and note.is_read
    assert unread_count(learner) == 0


def test_mark_read_twice_keeps_the_first_time(db, learner):
    note = notify(learner, "welcome")
    mark_read(learner, note.id, now=WHEN)
    mark_read(learner, note.id, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert note.read_at == WHEN


def test_someone_elses_notification_is_not_allowed(db, learner, creator, admin):
    note = notify(learner, "welcome")
    db.session.commit()
    for actor in (creator, admin):
        with pytest.raises(NotAllowed, match="read this notification"):
            mark_read(actor, note.id)
    assert note.read_at is None


def test_missing_notification_is_not_found(db, learner):
    with pytest.raises(NotFound):
        mark_read(learner, 987654)


def test_mark_all_read_touches_only_my_rows(db, learner, creator):
    mine = [notify(learner, "welcome") for _ in range(3)]
    theirs = notify(creator, "welcome")
    db.session.commit()
    mark_read(learner, mine[0].id, now=WHEN)
    db.session.commit()
    assert mark_all_read(learner, now=datetime(2031, 1, 1, tzinfo=UTC)) == 2
    db.session.commit()
    assert unread_count(learner) == 0
    assert db.session.get(Notification, mine[0].id).read_at == WHEN  # already read: unchanged
    assert db.session.get(Notification, theirs.id).read_at is None
    assert unread_count(creator) == 1


def test_list_is_mine_newest_first_and_paged(db, learner, creator):
    notes = [notify(learner, "welcome", name=str(n)) for n in range(5)]
    notify(creator, "welcome")
    db.session.commit()
    page = list_notifications(learner, per_page=2)
    assert [n.id for n in page.items] == [notes[4].id, notes[3].id]
    assert page.total == 5
    assert [n.id for n in list_notifications(learner, page=3, per_page=2).items] == [notes[0].id]
