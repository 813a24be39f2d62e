"""Two withdrawals racing can never overdraw (issue: money, payouts): two real PostgreSQL
connections — two threads, each in its own app context on an app with committed data, not
the rolled-back `db` fixture — ask for payouts that together exceed the available balance."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Course
from app.commerce import ledger, payouts
from app.commerce.models import Payout
from app.commerce.settings import set_setting
from app.errors import Invalid
from app.extensions import db as _db
from tests import factories
from tests.support.apps import build_app
from tests.support.commerce import buy, paid_course

# These tests commit for real, on their own database (`committed` below), through two real
# connections.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


@pytest.fixture
def committed():
    """A separate app and database whose data is really committed (dropped at the end): a
    creator with 25.49 available (one sale, no escrow) and a PayPal account."""
    app, teardown = build_app()
    try:
        with app.app_context():
            admin = factories.make_user(email="race-admin@example.test", permissions=("superuser",))
            creator = factories.make_user(email="race-creator@example.test")
            set_setting(admin, "escrow", {"mode": "none", "days": 0})
            _db.session.commit()
            buy(factories.make_user(email="race-buyer@example.test"), paid_course(creator))
            payouts.connect_paypal(creator, email="race-creator@example.test")
            _db.session.commit()
            assert ledger.creator_balances(creator.id)["available"] == 2549
            yield app, creator.id
            _db.session.remove()
    finally:
        teardown()


def withdraw(app, creator_id: int, amount: int, *, start: threading.Barrier | None = None,
             asked: threading.Event | None = None, go_on: threading.Event | None = None,
             results: list) -> None:
    """One request, on its own connection: ask for a payout, then commit (after `go_on`)."""
    with app.app_context():
        try:
            creator = _db.session.get(User, creator_id)
            if start is not None:
                start.wait(timeout=10)
            payouts.request_payout(creator, amount)
            if asked is not None:
                asked.set()            # the money is moved in this transaction, not yet committed
            if go_on is not None:
                go_on.wait(timeout=10)
            _db.session.commit()
            results.append("paid")
        except Invalid:
            _db.session.rollback()
            results.append("refused")
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            _db.session.rollback()
            results.append(repr(exc))
        finally:
            _db.session.remove()


def outcome(app, creator_id: int) -> tuple[dict, int, int, list[str]]:
    """(balances, payouts, paid out, invariant problems), read on a fresh connection."""
    with app.app_context():
        try:
            count, paid_out = _db.session.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Payout.amount_minor), 0))
                .where(Payout.creator_id == creator_id)).one()
            return ledger.creator_balances(creator_id), count, paid_out, ledger.check_invariants()
        finally:
            _db.session.remove()


def overlap(first, second, *, waits_for: str) -> tuple[list, list]:
    """A (`first`) does its part and holds its transaction open; B (`second`) starts and must
    block on it (checked for 1.5 s); then A finishes, and both results come back."""
    results_a, results_b = [], []
    signal, go_on = threading.Event(), threading.Event()
    a = threading.Thread(target=first, args=(signal, go_on, results_a))
    b = threading.Thread(target=second, args=(results_b,))
    a.start()
    assert signal.wait(timeout=10)
    b.start()
    b.join(timeout=1.5)
    assert b.is_alive(), f"B did not wait for {waits_for}: {results_b}"
    go_on.set()
    a.join(timeout=10)
    b.join(timeout=10)
    return results_a, results_b


def test_the_second_of_two_overlapping_withdrawals_waits_and_is_refused(committed):
    """A has moved the money but not committed when B asks: B must wait for A's lock and
    then see A's payout. (Reading the balance without the lock, B would see 25.49.)"""
    app, creator_id = committed
    results_a, results_b = overlap(
        lambda signal, go_on, results: withdraw(app, creator_id, 2000, asked=signal, go_on=go_on, results=results),
        lambda results: withdraw(app, creator_id, 2000, results=results),
        waits_for="A's lock on the available balance")
    assert (results_a, results_b) == (["paid"], ["refused"])
    balances, count, paid_out, problems = outcome(app, creator_id)
    assert (count, paid_out, problems) == (1, 2000, [])
    assert balances == {"escrow": 0, "available": 549, "payout_in_flight": 0}


def test_simultaneous_withdrawals_never_overdraw(committed):
    """Round after round (a new sale each time), two withdrawals that each fit but together
    do not start at the same moment: exactly one is paid, available never goes below zero."""
    app, creator_id = committed
    earned = 2549
    for round_ in range(5):
        if round_:
            with app.app_context():
                buy(factories.make_user(), _db.session.scalar(sa.select(Course).where(Course.creator_id == creator_id)))
                _db.session.remove()
            earned += 2549
        balances, *_ = outcome(app, creator_id)
        available = balances["available"]
        amounts = (available - 100, 2000)
        assert min(amounts) >= 2000 and sum(amounts) > available
        results: list = []
        start = threading.Barrier(2)
        threads = [threading.Thread(target=withdraw, args=(app, creator_id, amount),
                                    kwargs={"start": start, "results": results}) for amount in amounts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(results) == ["paid", "refused"], results
        balances, count, paid_out, problems = outcome(app, creator_id)
        assert count == round_ + 1 and problems == []
        assert balances["available"] >= 0 and balances["payout_in_flight"] == 0
        assert paid_out + balances["available"] == earned


def post_bonus(app, creator_id: int, amount: int, *, posted: threading.Event | None = None,
               go_on: threading.Event | None = None, commit: bool = True, results: list) -> None:
    """One connection posts the transaction `race:bonus` (key and accounts the same, amount its own)."""
    with app.app_context():
        try:
            transaction = ledger.post("race:bonus", "adjustment", [
                (ledger.COMMISSION, amount), (ledger.creator_account(creator_id, "available"), -amount)],
                currency="USD")
            if posted is not None:
                posted.set()
            if go_on is not None:
                go_on.wait(timeout=10)
            results.append(transaction.id)
            _db.session.commit() if commit else _db.session.rollback()
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            _db.session.rollback()
            results.append(repr(exc))
        finally:
            _db.session.remove()


@pytest.mark.parametrize("first_commits", [True, False])
def test_one_key_posted_on_two_connections_at_once_is_written_once(committed, first_commits):
    """A has written `race:bonus` but not committed when B posts the same key: B waits on the
    unique key, then returns A's transaction (or, if A rolled back, writes its own) — once."""
    app, creator_id = committed
    results_a, results_b = overlap(
        lambda signal, go_on, results: post_bonus(app, creator_id, 100, posted=signal, go_on=go_on,
                                                  commit=first_commits, results=results),
        lambda results: post_bonus(app, creator_id, 300, results=results),
        waits_for="A's uncommitted key")
    assert all(isinstance(r, int) for r in results_a + results_b), (results_a, results_b)
    assert (results_a == results_b) is first_commits
    balances, _, _, problems = outcome(app, creator_id)
    assert problems == []
    assert balances["available"] == 2549 + (100 if first_commits else 300)
