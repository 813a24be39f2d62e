"""The double-entry ledger (app/commerce/ledger.py, ARCHITECTURE §4): balanced, idempotent,
append-only postings; balances by natural sign; the `User.balance` cache; the invariant check."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.commerce import ledger
from app.commerce.ledger import LedgerError
from app.commerce.models import LedgerEntry, LedgerTransaction
from app.extensions import db

STRIPE = ledger.gateway_account("stripe")


def counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)),
            db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)))


def cached_balance(user) -> int:
    return db.session.scalar(sa.select(User.balance).where(User.id == user.id))


def sale(creator_id: int, key: str = "sale:t1", *, price=2999, commission=450, into="escrow"):
    return ledger.post(key, "sale", [
        (STRIPE, price),
        (ledger.COMMISSION, -commission),
        (ledger.creator_account(creator_id, into), -(price - commission)),
    ], currency="USD")


@pytest.mark.parametrize("legs", [
    [(STRIPE, 100), (ledger.COMMISSION, -99)],                      # off by one
    [(STRIPE, 100)],                                                # one leg
    [(STRIPE, 100), (ledger.COMMISSION, 0)],                        # one real leg
    [(STRIPE, 0), (ledger.COMMISSION, 0)],                          # nothing moves
    [],                                                             # no legs
    [(STRIPE, 100), (ledger.COMMISSION, -50), ("liability:creator:1:escrow", -49)],
])
def test_unbalanced_one_leg_and_empty_transactions_are_refused(legs):
    before = counts()
    with pytest.raises(LedgerError):
        ledger.post("bad:1", "test", legs, currency="USD")
    assert counts() == before
    assert ledger.find_transaction("bad:1") is None


@pytest.mark.parametrize("name", ["stripe", "asset:stripe", "equity:owner:capital", "Asset:gateway:x"])
def test_malformed_account_names_are_refused(name):
    with pytest.raises(LedgerError):
        ledger.post("bad:name", "test", [(name, 5), (ledger.COMMISSION, -5)], currency="USD")
    assert ledger.find_transaction("bad:name") is None


def test_a_zero_entry_cannot_be_stored_even_bypassing_post(creator):
    sale(creator.id)
    transaction = ledger.find_transaction("sale:t1")
    account_id = transaction.entries[0].account_id
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.insert(LedgerEntry).values(
            transaction_id=transaction.id, account_id=account_id, amount=0, currency="USD"))


def test_posting_the_same_key_twice_writes_once_and_returns_the_same_transaction(creator):
    first = sale(creator.id)
    before = counts()
    again = sale(creator.id)
    different_legs = ledger.post("sale:t1", "sale", [(STRIPE, 5), (ledger.COMMISSION, -5)], currency="USD")
    assert again.id == first.id == different_legs.id
    assert counts() == before
    assert ledger.balance(STRIPE) == 2999
    assert len(first.entries) == 3


def test_balances_read_in_their_natural_sign(creator):
    sale(creator.id)
    assert ledger.balance(STRIPE) == 2999                   # an asset: what the provider holds
    assert ledger.balance(ledger.COMMISSION) == 450          # income: what the platform earned
    assert ledger.balance(ledger.creator_account(creator.id, "escrow")) == 2549  # owed to the creator
    assert ledger.raw_sum(ledger.creator_account(creator.id, "escrow")) == -2549
    assert ledger.balance(ledger.creator_account(creator.id, "available")) == 0  # never used
    assert ledger.check_invariants() == []


def test_the_balance_cache_follows_the_available_account_after_every_posting(creator, make_user):
    other = make_user()
    available = ledger.creator_account(creator.id, "available")
    steps = [
        lambda: sale(creator.id, "sale:a", into="escrow"),
        lambda: ledger.post("release:a", "escrow_release", [
            (ledger.creator_account(creator.id, "escrow"), 2549), (available, -2549)], currency="USD"),
        lambda: sale(creator.id, "sale:b", into="available"),
        lambda: sale(other.id, "sale:c", into="available"),  # someone else's money
        lambda: ledger.post("payout:a", "payout_request", [
            (available, 3000), (ledger.creator_account(creator.id, "payout_in_flight"), -3000)],
            currency="USD"),
        # a refund after release takes from available, which may go negative
        lambda: ledger.post("refund:a", "refund", [
            (available, 2549), (ledger.COMMISSION, 450), (STRIPE, -2999)], currency="USD"),
    ]
    expected = [0, 2549, 5098, 5098, 2098, -451]
    for step, want in zip(steps, expected, strict=True):
        step()
        assert ledger.balance(available) == want
        assert cached_balance(creator) == want
        assert creator.balance == want  # the loaded object is kept in step too
        assert ledger.check_invariants() == []
    assert cached_balance(other) == 2549


def test_creator_balances_lists_the_three_accounts(creator):
    sale(creator.id)
    assert ledger.creator_balances(creator.id) == {"escrow": 2549, "available": 0, "payout_in_flight": 0}


def test_the_check_finds_an_entry_that_unbalances_a_transaction(creator):
    sale(creator.id)
    transaction = ledger.find_transaction("sale:t1")
    savepoint = db.session.begin_nested()
    db.session.execute(sa.text(
        "INSERT INTO ledger_entry (transaction_id, account_id, amount, currency) "
        "VALUES (:t, :a, 7, 'USD')"), {"t": transaction.id, "a": transaction.entries[0].account_id})
    problems = ledger.check_invariants()
    savepoint.rollback()
    assert f"transaction {transaction.id} does not sum to zero in USD (off by 7)" in problems
    assert "all accounts in USD sum to 7, not zero" in problems
    assert ledger.check_invariants() == []


def test_the_check_finds_a_stale_balance_cache_a_lonely_leg_and_a_negative_in_flight(creator):
    sale(creator.id, into="available")
    savepoint = db.session.begin_nested()
    db.session.execute(sa.text("UPDATE users SET balance = balance + 1 WHERE id = :id"), {"id": creator.id})
    db.session.execute(sa.text(
        "INSERT INTO ledger_transaction (idempotency_key, kind, memo, created_at) "
        "VALUES ('broken:1', 'test', '', CURRENT_TIMESTAMP)"))
    problems = ledger.check_invariants()
    savepoint.rollback()
    assert f"user {creator.id} balance cache 2550 != ledger 2549" in problems
    assert any(p.endswith("has fewer than two legs") for p in problems)

    savepoint = db.session.begin_nested()
    in_flight = ledger.creator_account(creator.id, "payout_in_flight")
    ledger.post("bogus:settle", "test", [(in_flight, 10), (STRIPE, -10)], currency="USD")
    problems = ledger.check_invariants()
    savepoint.rollback()
    assert f"{in_flight} is negative (-10): more paid out than requested" in problems
    assert ledger.check_invariants() == []


def test_the_check_finds_an_entry_in_another_currency(creator):
    sale(creator.id)
    transaction = ledger.find_transaction("sale:t1")
    savepoint = db.session.begin_nested()
    db.session.execute(sa.text("UPDATE ledger_entry SET currency = 'EUR' WHERE transaction_id = :t"),
                       {"t": transaction.id})
    problems = ledger.check_invariants()
    savepoint.rollback()
    assert any("has entries in another currency" in p for p in problems)
    assert ledger.check_invariants() == []
