"""Two moderators deciding on the same reports at the same moment (real PostgreSQL): one
decision wins, the other is told the reports were already handled; the reporter is told
once and one audit row is written. Two threads, two connections, committed data."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.errors import Conflict
from app.extensions import db as _db
from app.messaging.models import ChatMessage, Notification
from app.moderation.decisions import resolve
from app.moderation.models import AuditLog, Report
from tests import factories
from tests.support.apps import build_app
from tests.support.moderation import chat_line, member, reported

# Two real connections race on an app of their own, whose data is really committed.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


@pytest.fixture
def committed():
    app, teardown = build_app()
    try:
        with app.app_context():
            first = factories.make_user(email="mod-a@example.test", permissions=("moderate",))
            second = factories.make_user(email="mod-b@example.test", permissions=("moderate",))
            creator = factories.make_user(email="race-creator@example.test")
            author = factories.make_user(email="race-author@example.test")
            reporter = factories.make_user(email="race-reporter@example.test")
            course = factories.make_course(creator, status="published")
            member(author, course)
            member(reporter, course)
            message = chat_line(course, author, "rude")
            reported(reporter, "chat_message", message.id, "Rude")
            ids = {"a": first.id, "b": second.id, "reporter": reporter.id, "message": message.id}
            _db.session.remove()
        yield app, ids
    finally:
        teardown()


def decide(app, moderator_id, message_id, action, results, *, acted=None, go_on=None):
    with app.app_context():
        try:
            moderator = _db.session.get(User, moderator_id)
            resolve(moderator, "chat_message", message_id, action=action, reason="race")
            if acted is not None:
                acted.set()  # decided in this transaction, not yet committed
            if go_on is not None:
                go_on.wait(timeout=10)
            _db.session.commit()
            results.append(action)
        except Conflict:
            _db.session.rollback()
            results.append("conflict")
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            _db.session.rollback()
            results.append(repr(exc))
        finally:
            _db.session.remove()


def test_two_moderators_at_once_one_decision_one_notification(committed):
    app, ids = committed
    acted, go_on, results = threading.Event(), threading.Event(), []
    first = threading.Thread(target=decide, args=(app, ids["a"], ids["message"], "delete", results),
                             kwargs={"acted": acted, "go_on": go_on})
    first.start()
    assert acted.wait(timeout=10)
    second = threading.Thread(target=decide, args=(app, ids["b"], ids["message"], "dismiss", results))
    second.start()
    time.sleep(0.5)  # the second waits on the first's row locks
    assert results == []
    go_on.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert sorted(results) == ["conflict", "delete"]
    with app.app_context():
        count = lambda model, *w: _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*w))  # noqa: E731
        assert count(Notification, Notification.user_id == ids["reporter"],
                     Notification.kind == "moderation.report_closed") == 1
        assert count(AuditLog, AuditLog.action.like("moderation.%")) == 1
        assert set(_db.session.scalars(sa.select(Report.status))) == {"resolved"}
        assert _db.session.get(ChatMessage, ids["message"]).deleted_by_id == ids["a"]
        _db.session.remove()
