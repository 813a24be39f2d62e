"""Connecting a payout account twice at the same moment (issue #13, item 11), on real PostgreSQL
with committed data: the second waits for the first and updates its account — one account,
no unique violation (a 500)."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.commerce import payouts
from app.commerce.models import PayoutAccount
from app.extensions import db as _db
from tests import factories

# Two real connections race on an app of their own, whose data is really committed.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


@pytest.fixture
def creator_id(committed_app):
    with committed_app.app_context():
        creator = factories.make_user()
        _db.session.commit()
        yield creator.id
        _db.session.remove()


def connect(app, user_id: int, email: str, results: list, *, connected=None, go_on=None) -> None:
    with app.app_context():
        try:
            payouts.connect_paypal(_db.session.get(User, user_id), email=email)
            _db.session.flush()
            if connected is not None:
                connected.set()  # the account is written in this transaction, not yet committed
            if go_on is not None:
                go_on.wait(timeout=10)
            _db.session.commit()
            results.append("connected")
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            _db.session.rollback()
            results.append(repr(exc))
        finally:
            _db.session.remove()


def waiting_on_a_lock(app) -> int:
    """How many connections to this test database wait on a lock."""
    with app.app_context():
        try:
            return _db.session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))
        finally:
            _db.session.remove()


def test_the_second_of_two_overlapping_connects_updates_the_first_account(committed_app, creator_id):
    app = committed_app
    connected, go_on, first, second = threading.Event(), threading.Event(), [], []
    a = threading.Thread(target=connect, args=(app, creator_id, "first@example.test", first),
                         kwargs={"connected": connected, "go_on": go_on})
    a.start()
    assert connected.wait(timeout=10)
    b = threading.Thread(target=connect, args=(app, creator_id, "second@example.test", second))
    b.start()
    deadline = time.monotonic() + 10
    while waiting_on_a_lock(app) == 0 and b.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for B to reach A's lock (a condition, with a deadline)
    go_on.set()
    a.join(timeout=10)
    b.join(timeout=10)
    assert (first, second) == (["connected"], ["connected"])
    with app.app_context():
        accounts = _db.session.scalars(sa.select(PayoutAccount).where(PayoutAccount.user_id == creator_id)).all()
        assert [(acc.provider, acc.external_id, acc.status) for acc in accounts] == [
            ("paypal", "second@example.test", "active")]
        _db.session.remove()


def test_many_connects_at_once_leave_one_account(committed_app, creator_id):
    app = committed_app
    start, results = threading.Barrier(6), []

    def run(n: int) -> None:
        start.wait(timeout=10)
        connect(app, creator_id, f"creator-{n}@example.test", results)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == ["connected"] * 6
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(PayoutAccount)
                                  .where(PayoutAccount.user_id == creator_id)) == 1
        _db.session.remove()
