"""The double-entry ledger: the only code that writes money (ARCHITECTURE §4).

Every movement is one transaction of signed legs (debit +, credit −) that sum to zero per
currency, written once under a unique idempotency key: posting the same key again returns
the transaction already there and writes nothing. Balances are sums of entries;
`User.balance` caches the creator's available balance and is updated in the same database
transaction as the entries.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.commerce.events import LedgerPosted
from app.commerce.models import ACCOUNT_TYPES, LedgerAccount, LedgerEntry, LedgerTransaction
from app.dbtypes import insert_on_conflict, utcnow
from app.events import emit
from app.extensions import db

COMMISSION = "income:platform:commission"


def gateway_account(provider: str) -> str:
    return f"asset:gateway:{provider}"


def creator_account(creator_id: int, purpose: str) -> str:
    """purpose: escrow | available | payout_in_flight"""
    return f"liability:creator:{creator_id}:{purpose}"


class LedgerError(ValueError):
    """A programming error: an unbalanced or malformed transaction. Never user input."""


def _account_type(name: str) -> str:
    kind = name.split(":", 1)[0]
    if kind not in ACCOUNT_TYPES or name.count(":") < 2:
        raise LedgerError(f"bad account name {name!r}")
    return kind


def _ensure_accounts(names: Iterable[str], currency: str) -> dict[str, int]:
    """Ids of the named accounts, creating the missing ones (one query when all exist)."""
    names = sorted(set(names))
    found = dict(db.session.execute(sa.select(LedgerAccount.name, LedgerAccount.id)
                                    .where(LedgerAccount.name.in_(names))).all())
    missing = [name for name in names if name not in found]
    if missing:
        for name in missing:
            db.session.execute(insert_on_conflict(LedgerAccount).values(
                name=name, type=_account_type(name), currency=currency, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"]))
        found.update(db.session.execute(sa.select(LedgerAccount.name, LedgerAccount.id)
                                        .where(LedgerAccount.name.in_(missing))).all())
    return found


def find_transaction(key: str) -> LedgerTransaction | None:
    return db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))


def post(key: str, kind: str, legs: list[tuple[str, int]], *, currency: str, memo: str = "",
         order_id: int | None = None, now: datetime | None = None) -> LedgerTransaction:
    """Write one balanced transaction, once. Returns the existing one for a known key."""
    legs = [(name, int(amount)) for name, amount in legs if amount]
    try:  # a malformed transaction fails before anything is written (unless the key is known)
        if len(legs) < 2 or sum(amount for _, amount in legs) != 0:
            raise LedgerError(f"transaction {key!r} does not balance: {legs}")
        for name, _ in legs:
            _account_type(name)
    except LedgerError:
        existing = find_transaction(key)
        if existing is not None:
            return existing
        raise
    # The unique key decides: the row is written here, or it was already (or is being, by a
    # concurrent writer, whose commit this waits for) and that one is returned. Two round
    # trips fewer than looking first and inserting under a SAVEPOINT.
    transaction = db.session.scalar(
        insert_on_conflict(LedgerTransaction).values(idempotency_key=key, kind=kind, memo=memo[:255], order_id=order_id,
                                          created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(LedgerTransaction))
    if transaction is None:
        return find_transaction(key)
    accounts = _ensure_accounts((name for name, _ in legs), currency)
    # One multi-row INSERT (the ORM would send one INSERT … RETURNING per leg on SQLite).
    db.session.execute(sa.insert(LedgerEntry.__table__), [
        {"transaction_id": transaction.id, "account_id": accounts[name], "amount": amount,
         "currency": currency} for name, amount in legs])
    _refresh_balance_caches(name for name, _ in legs)
    emit(LedgerPosted(transaction_id=transaction.id, kind=kind))
    return transaction


def _refresh_balance_caches(names: Iterable[str]) -> None:
    for name in set(names):
        parts = name.split(":")
        if parts[:2] == ["liability", "creator"] and parts[3] == "available":
            creator_id = int(parts[2])
            # The sum is taken in the UPDATE itself (one statement); a loaded User's balance is
            # refreshed on its next read.
            db.session.execute(sa.update(User).where(User.id == creator_id)
                               .values(balance=-_raw_sum_query(name).scalar_subquery()),
                               execution_options={"synchronize_session": "fetch"})


def _raw_sum_query(name: str):
    return (sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.name == name))


def raw_sum(name: str) -> int:
    return db.session.scalar(_raw_sum_query(name)) or 0


def balance(name: str) -> int:
    """The account's balance in its natural sign: assets and expenses are debit-positive;
    liabilities and income are credit-positive (what we owe, what we earned)."""
    total = raw_sum(name)
    return total if _account_type(name) in ("asset", "expense") else -total


def lock_account(name: str, currency: str) -> None:
    """Serialise money decisions on one account (a row lock on PostgreSQL; SQLite's writer
    lock already serialises)."""
    _ensure_accounts([name], currency)
    db.session.execute(sa.select(LedgerAccount.id).where(LedgerAccount.name == name).with_for_update())


def creator_balances(creator_id: int) -> dict[str, int]:
    return {purpose: balance(creator_account(creator_id, purpose))
            for purpose in ("escrow", "available", "payout_in_flight")}


def check_invariants() -> list[str]:
    """Every rule the ledger must keep, checked over the whole database. Empty means sound."""
    problems = []
    unbalanced = db.session.execute(
        sa.select(LedgerEntry.transaction_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount) != 0)).all()
    problems += [f"transaction {t} does not sum to zero in {c} (off by {s})" for t, c, s in unbalanced]
    totals = db.session.execute(sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
                                .group_by(LedgerEntry.currency)).all()
    problems += [f"all accounts in {c} sum to {s}, not zero" for c, s in totals if s]
    lonely = db.session.execute(
        sa.select(LedgerTransaction.id).outerjoin(LedgerEntry)
        .group_by(LedgerTransaction.id).having(sa.func.count(LedgerEntry.id) < 2)).all()
    problems += [f"transaction {t} has fewer than two legs" for (t,) in lonely]
    mixed = db.session.execute(
        sa.select(LedgerAccount.name).join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerEntry.currency != LedgerAccount.currency).distinct()).all()
    problems += [f"account {n} has entries in another currency" for (n,) in mixed]
    per_creator = defaultdict(int)
    for name, total in db.session.execute(
            sa.select(LedgerAccount.name, sa.func.sum(LedgerEntry.amount))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.name.like("liability:creator:%:available"))
            .group_by(LedgerAccount.name)).all():
        per_creator[int(name.split(":")[2])] = -total
    for user_id, cached in db.session.execute(sa.select(User.id, User.balance)).all():
        if cached != per_creator.get(user_id, 0):
            problems.append(f"user {user_id} balance cache {cached} != ledger {per_creator.get(user_id, 0)}")
    for name, total in db.session.execute(
            sa.select(LedgerAccount.name, sa.func.sum(LedgerEntry.amount))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.name.like("liability:creator:%:payout_in_flight"))
            .group_by(LedgerAccount.name)).all():
        if -total < 0:
            problems.append(f"{name} is negative ({-total}): more paid out than requested")
    return problems
