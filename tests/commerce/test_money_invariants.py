"""Money invariants under random operations (hypothesis, stateful).

Random sequences of purchases (paid once, delivered twice, under two event ids, delayed
payment methods, expired), refunds arriving before the payment they refund, completions,
escrow releases by time, refunds (automatic and by an admin, at the provider in parts),
learner disputes opened and ruled, chargebacks won and lost (told twice), payouts requested,
approved, rejected, refused, failing with a 5xx and retried, settled by PayPal's poll, and
commission / escrow / payout policy changes — every one through the services and signed
webhook deliveries (`receive_stripe`, the function behind `/webhooks/stripe`: signature
checked, event stored, apply job enqueued on commit and run by RQ), committed as the
adapters commit. Only PayPal's HTTP API is faked; card payments are the local gateway's
signed Stripe-shaped events.

After EVERY step that did something (a step with nothing to act on touches nothing and is
not counted) the invariants below hold. They are checked incrementally by `Books`: the
ledger transactions written since the previous step are each checked (balanced per
currency, at least two legs, in their accounts' currency) and added to a running tally,
and then the whole ledger's per-account sums are read back and must equal that tally, so
every account, the total (zero), every `User.balance` cache and every per-creator and
per-order rule are checked against the database after every step, in a handful of queries.
Every FULL_CHECK_EVERY steps and at the end of every example the same rules are also
checked from scratch (`check_money`: fresh aggregates, and `ledger.check_invariants`, the
`flask ledger-check` code).

The total number of operations is LYCEUM_MONEY_OPS (default below): the issue asks for at
least 100,000 across CI, and `.ci/run` runs the suite twice (SQLite, then PostgreSQL), so
each pass runs half. Hypothesis runs are repeated until that many operations have run. Each
example runs inside a SAVEPOINT that is rolled back, so every example starts from the same
cast (creators, buyers, courses) built once.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections import Counter, defaultdict, namedtuple
from datetime import timedelta

import pytest
import requests
import responses
import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from app.accounts.models import User
from app.catalog.models import Course
from app.commerce import disputes, escrow, ledger, payouts, refunds, webhooks
from app.commerce.models import LedgerAccount, LedgerEntry, LedgerTransaction, Order, PaymentEvent, Payout
from app.commerce.payouts import connect_paypal
from app.commerce.settings import set_commission_rate, set_course_commission, set_setting
from app.commerce.webhooks import receive_stripe
from app.dbtypes import utcnow
from app.errors import DomainError
from app.extensions import db
from app.jobs.payments import execute_payout
from app.learning import progress
from app.learning.queries import ordered_lessons
from tests.support.commerce import (
    charge_refunded,
    checkout,
    checkout_async,
    checkout_completed,
    checkout_expired,
    course_with_lessons,
    dispute_closed,
    dispute_created,
    paid_course,
    signed,
    stripe_event,
    uid,
)

# >= 100,000 operations across CI = 50,000 in each of the two passes of `.ci/run`.
# Measured (2 cores, two xdist workers): 8.7-10.1 ms per operation on SQLite, 15.6-19.5 ms
# on PostgreSQL, the check after every step included: each pass's four shards take about
# 2 x 2 min on SQLite and 2 x 4 min on PostgreSQL.
TOTAL_OPS = int(os.environ.get("LYCEUM_MONEY_OPS", "50000"))
SHARDS = int(os.environ.get("LYCEUM_MONEY_SHARDS", "4"))  # tests that share them, for xdist's workers
STEPS = int(os.environ.get("LYCEUM_MONEY_STEPS", "150"))  # steps per hypothesis example
FULL_CHECK_EVERY = 25  # steps between two from-scratch checks (and one at each example's end)
PAYPAL = "https://api-m.sandbox.paypal.com"
STRIPE = ledger.gateway_account("stripe")
PAYPAL_ASSET = ledger.gateway_account("paypal")
EXPECTED = (DomainError,)  # what a user-facing adapter turns into a 4xx: the state must not change

# --- PayPal at the HTTP boundary --------------------------------------------------------------

FAKE = {"batches": {}, "status": {}, "next": "ok", "seq": itertools.count(1)}


def deliver(event: dict) -> None:
    """A signed delivery to `receive_stripe` (what `/webhooks/stripe` calls), committed as the
    view commits: the apply job is enqueued on that commit (RQ, synchronous in tests)."""
    receive_stripe(*signed(event))
    db.session.commit()


def _paypal_token(request):
    return 200, {}, json.dumps({"access_token": "A21AA-invariants", "token_type": "Bearer"})


def _paypal_payouts(request):
    sender_batch_id = json.loads(request.body)["sender_batch_header"]["sender_batch_id"]
    if sender_batch_id in FAKE["batches"]:  # the same key again: PayPal refuses, links the original
        batch = FAKE["batches"][sender_batch_id]
        return 400, {}, json.dumps({"name": "USER_BUSINESS_ERROR", "details": [{
            "field": "SENDER_BATCH_ID", "issue": "Batch with given sender_batch_id already exists",
            "link": [{"href": f"{PAYPAL}/v1/payments/payouts/{batch}", "rel": "self"}]}]})
    if FAKE["next"] == "refuse":
        return 422, {}, json.dumps({"name": "INSUFFICIENT_FUNDS", "message": "Not enough funds."})
    if FAKE["next"] == "error":
        return 503, {}, json.dumps({"name": "SERVICE_UNAVAILABLE"})
    batch = f"BATCH{next(FAKE['seq'])}"
    FAKE["batches"][sender_batch_id], FAKE["status"][batch] = batch, "PENDING"
    return 201, {}, json.dumps({"batch_header": {"payout_batch_id": batch, "batch_status": "PENDING"}})


def _paypal_batch(request):
    batch = request.url.rstrip("/").rsplit("/", 1)[-1]
    return 200, {}, json.dumps({"batch_header": {"payout_batch_id": batch,
                                                 "batch_status": FAKE["status"].get(batch, "PENDING")}})


# --- the invariants ---------------------------------------------------------------------------

def _natural(raw: dict[str, int], name: str) -> int:
    total = raw.get(name, 0)
    return total if name.startswith(("asset:", "expense:")) else -total


def check_rules(raw: dict[str, int], orders, payout_rows, cached: dict[int, int], booked: dict, sales: Counter,
                creator_ids: list[int]) -> None:
    """The rules over one state of the books, however it was read.

    raw: account name -> sum of its entries; orders: rows of every order; payout_rows: rows
    of every payout; cached: user id -> `User.balance` for every user whose cache is not 0;
    booked: (order id, "sale" | "reversal") -> what the provider's account moved for it;
    sales: order id -> number of sale transactions."""
    paid = [r for r in orders if r.paid]
    payout_sums = defaultdict(int)
    for r in payout_rows:
        payout_sums[r.creator_id, r.status, r.provider] += r.amount_minor

    # the sum of all accounts is zero (one currency here)
    assert sum(raw.values()) == 0, f"the accounts sum to {sum(raw.values())}"
    # platform revenue = commissions minus refunded commissions
    assert _natural(raw, ledger.COMMISSION) == sum(r.commission_minor - r.commission_refunded_minor for r in paid)
    # the provider holds what was paid, less what was refunded and what was paid out through it
    assert _natural(raw, STRIPE) == sum(r.price_minor - r.refunded_minor for r in paid)
    assert _natural(raw, PAYPAL_ASSET) == -sum(v for (_, status, provider), v in payout_sums.items()
                                               if status == "paid" and provider == "paypal")

    # every sale booked exactly once and only for a paid order; the refunds booked (each key
    # once) add up to what the order says was refunded
    by_order = {r.id: r for r in paid}
    for order_id, n in sales.items():
        assert n == 1, f"order {order_id} sold {n} times"
    for (order_id, what), amount in booked.items():
        assert order_id in by_order, f"money moved for order {order_id}, which was never paid"
        row = by_order[order_id]
        assert amount == (row.price_minor if what == "sale" else -row.refunded_minor), (order_id, what, amount)
    for r in orders:
        if not r.paid:
            assert r.status in ("pending", "failed", "expired"), r
            assert r.refunded_minor == 0 and r.commission_refunded_minor == 0, r
            continue
        assert r.status in ("paid", "refunded"), r
        assert booked.get((r.id, "sale")) == r.price_minor, f"order {r.id} paid but its sale is not booked"
        assert booked.get((r.id, "reversal"), 0) == -r.refunded_minor
        assert 0 <= r.refunded_minor <= r.price_minor
        assert 0 <= r.commission_refunded_minor <= r.commission_minor
        assert (r.status == "refunded") == (r.refunded_minor == r.price_minor)
        # the creator never gives back more than the creator's share, and a sale refunded in
        # full (in however many parts) earns the platform nothing
        assert r.refunded_minor - r.commission_refunded_minor <= r.creator_share_minor, r
        if r.status == "refunded":
            assert r.commission_refunded_minor == r.commission_minor, r

    # no balance cached differs from the ledger (only creators have an available account)
    expected_cache = {c: _natural(raw, ledger.creator_account(c, "available")) for c in creator_ids}
    assert cached == {c: v for c, v in expected_cache.items() if v}, (cached, expected_cache)
    for creator_id in creator_ids:
        escrow_ = _natural(raw, ledger.creator_account(creator_id, "escrow"))
        available = expected_cache[creator_id]
        in_flight = _natural(raw, ledger.creator_account(creator_id, "payout_in_flight"))
        mine = [r for r in paid if r.creator_id == creator_id]
        net_earned = sum(r.creator_share_minor - (r.refunded_minor - r.commission_refunded_minor) for r in mine)
        held = sum(r.creator_share_minor - (r.refunded_minor - r.commission_refunded_minor)
                   for r in mine if not r.released)
        paid_out = sum(v for (c, status, _), v in payout_sums.items() if c == creator_id and status == "paid")
        waiting = sum(v for (c, status, _), v in payout_sums.items()
                      if c == creator_id and status in ("awaiting_approval", "queued", "processing"))
        assert paid_out + available + escrow_ + in_flight == net_earned
        assert escrow_ == held >= 0, (escrow_, held)
        # no payout exceeds what was available: what is in flight is what was asked for
        assert in_flight == waiting >= 0, (in_flight, waiting)
        # Paid out never exceeds what was earned net — except by a debt: a refund taken from
        # `available` after the money was withdrawn (ARCHITECTURE §4: available may go
        # negative and is recovered from later sales). That debt is exactly the excess.
        assert paid_out <= net_earned + max(0, -available)


_E, _T, _A = LedgerEntry.__table__, LedgerTransaction.__table__, LedgerAccount.__table__
_O, _P, _U, _EV = Order.__table__, Payout.__table__, User.__table__, PaymentEvent.__table__
ORDERS = sa.select(
    _O.c.id, _O.c.buyer_id, _O.c.course_id, _O.c.creator_id, _O.c.price_minor, _O.c.commission_minor,
    _O.c.creator_share_minor, _O.c.refunded_minor, _O.c.commission_refunded_minor,
    sa.case((_O.c.paid_at.is_not(None), 1), else_=0).label("paid"),
    sa.case((_O.c.escrow_released_at.is_not(None), 1), else_=0).label("released"), _O.c.status,
).order_by(_O.c.id)
PAYOUTS = sa.select(_P.c.id, _P.c.creator_id, _P.c.amount_minor, _P.c.status, _P.c.provider).order_by(_P.c.id)
CACHED = sa.select(_U.c.id, _U.c.balance).where(_U.c.balance != 0)
OrderRow = namedtuple("OrderRow", [c.name for c in ORDERS.selected_columns])
PayoutRow = namedtuple("PayoutRow", [c.name for c in PAYOUTS.selected_columns])
Leg = namedtuple("Leg", "id order_id account_id amount entry kind currency")


def _part(what: str, numbers=(), texts=()):
    """One SELECT of STATE: (what, 11 numbers, 2 texts), padded with NULLs."""
    numbers = [sa.cast(n, sa.BigInteger) for n in numbers] + [sa.cast(sa.null(), sa.BigInteger)] * (11 - len(numbers))
    texts = [sa.cast(t, sa.String) for t in texts] + [sa.cast(sa.null(), sa.String)] * (2 - len(texts))
    return sa.select(sa.literal(what), *numbers, *texts)


# Everything the check after a step reads, in ONE round trip (built once, so compiled once):
# the legs of the ledger transactions newer than `seen`, every account, every account's
# entries (count, sum), every non-zero balance cache, the stored provider events by status,
# every order and every payout.
STATE = sa.union_all(
    _part("leg", [_T.c.id, _T.c.order_id, _E.c.account_id, _E.c.amount, _E.c.id], [_T.c.kind, _E.c.currency])
    .select_from(_T.outerjoin(_E, _E.c.transaction_id == _T.c.id)).where(_T.c.id > sa.bindparam("seen")),
    _part("account", [_A.c.id], [_A.c.name, _A.c.currency]),
    _part("sum", [_E.c.account_id, sa.func.count(), sa.func.sum(_E.c.amount)]).group_by(_E.c.account_id),
    _part("cache", [_U.c.id, _U.c.balance]).where(_U.c.balance != 0),
    _part("event", [sa.func.count()], [_EV.c.status]).group_by(_EV.c.status),
    _part("order", list(ORDERS.selected_columns)[:-1], [_O.c.status]),
    _part("payout", list(PAYOUTS.selected_columns)[:-2], [_P.c.status, _P.c.provider]),
)


class Books:
    """The invariants, checked incrementally after each step (see the module's docstring).

    Also the machine's view of the state between steps (`orders`, `payouts`, `available`),
    read by the same query, so choosing what the next step acts on costs nothing more."""

    def __init__(self, creator_ids: list[int]):
        self.creator_ids = creator_ids
        self.seen = 0  # the newest ledger transaction checked
        self.tally: Counter = Counter()  # account id -> sum of the entries checked
        self.legs: Counter = Counter()  # account id -> number of entries checked
        self.booked: dict = defaultdict(int)  # (order id, "sale" | "reversal") -> provider's side
        self.sales: Counter = Counter()  # order id -> sale transactions
        self.orders: list = []
        self.payouts: list = []
        self.raw: dict[str, int] = {}

    def check(self) -> None:
        legs, accounts, sums, cached, statuses, orders, payouts_ = [], {}, {}, {}, {}, [], []
        for what, *numbers, text1, text2 in db.session.connection().execute(STATE, {"seen": self.seen}):
            if what == "leg":
                legs.append(Leg(*numbers[:5], text1, text2))
            elif what == "account":
                accounts[numbers[0]] = (text1, text2)
            elif what == "sum":
                sums[numbers[0]] = tuple(numbers[1:3])
            elif what == "cache":
                cached[numbers[0]] = numbers[1]
            elif what == "event":
                statuses[text1] = numbers[0]
            elif what == "order":
                orders.append(OrderRow(*numbers, text1))
            else:
                payouts_.append(PayoutRow(*numbers[:3], text1, text2))
        legs.sort(key=lambda leg: (leg.id, leg.entry or 0))
        for tx_id, rows in itertools.groupby(legs, key=lambda leg: leg.id):
            rows = [leg for leg in rows if leg.account_id is not None]
            assert len(rows) >= 2, f"transaction {tx_id} has {len(rows)} legs"
            per_currency = Counter()
            for leg in rows:
                name, currency = accounts[leg.account_id]
                assert leg.currency == currency, f"transaction {tx_id}: a {leg.currency} entry in {name} ({currency})"
                assert leg.amount != 0, f"transaction {tx_id}: a zero leg"
                per_currency[leg.currency] += leg.amount
                self.tally[leg.account_id] += leg.amount
                self.legs[leg.account_id] += 1
                if name == STRIPE and leg.order_id is not None:
                    assert leg.kind in ("sale", "refund", "chargeback"), leg.kind
                    self.booked[leg.order_id, "sale" if leg.kind == "sale" else "reversal"] += leg.amount
                    self.sales[leg.order_id] += leg.kind == "sale"
            assert not any(per_currency.values()), f"transaction {tx_id} does not balance: {dict(per_currency)}"
            self.seen = tx_id
        # The whole ledger read back equals the tally of the transactions checked one by one:
        # no entry was changed or removed, none was added to an old transaction.
        assert sums == {account: (self.legs[account], total) for account, total in self.tally.items()}, \
            "the ledger differs from the transactions written"
        self.raw = {accounts[account][0]: total for account, total in self.tally.items()}
        self.orders, self.payouts = orders, payouts_
        check_rules(self.raw, orders, payouts_, cached, self.booked, self.sales, self.creator_ids)
        # every external event applied once: stored once (unique), and none left un-applied
        # (parked ones wait, by design, for what they refer to)
        assert not statuses.keys() - {"applied", "ignored", "parked"}, statuses

    def available(self, creator_id: int) -> int:
        return _natural(self.raw, ledger.creator_account(creator_id, "available"))


def check_money(creator_ids: list[int]) -> None:
    """The same rules from scratch: every aggregate read afresh (and `flask ledger-check`)."""
    problems = ledger.check_invariants()
    assert problems == [], problems
    raw = dict(db.session.execute(
        sa.select(LedgerAccount.name, sa.func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id).group_by(LedgerAccount.name)).all())
    booked, sales = defaultdict(int), Counter()
    for order_id, kind, amount, legs in db.session.execute(
            sa.select(LedgerTransaction.order_id, LedgerTransaction.kind, sa.func.sum(LedgerEntry.amount),
                      sa.func.count(LedgerEntry.id))
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.name == STRIPE, LedgerTransaction.order_id.is_not(None))
            .group_by(LedgerTransaction.order_id, LedgerTransaction.kind)):
        assert kind in ("sale", "refund", "chargeback"), kind
        booked[order_id, "sale" if kind == "sale" else "reversal"] += amount
        if kind == "sale":
            sales[order_id] += legs
    orders = db.session.execute(ORDERS).all()
    payout_rows = db.session.execute(PAYOUTS).all()
    cached = dict(db.session.execute(CACHED).all())
    check_rules(raw, orders, payout_rows, cached, booked, sales, creator_ids)
    for creator_id in creator_ids:  # the balances the screens show agree
        shown = ledger.creator_balances(creator_id)
        assert shown == {p: _natural(raw, ledger.creator_account(creator_id, p)) for p in shown}, shown
    assert ledger.balance(ledger.COMMISSION) == _natural(raw, ledger.COMMISSION)


# --- the machine ------------------------------------------------------------------------------

PAYMENTS = ["once", "once", "same_event_twice", "two_event_ids", "delayed_then_succeeded",
            "succeeded_before_completed", "expired", "failed", "not_yet", "not_yet"]

# Each step draws one operation with these weights. (One dispatching rule rather than one
# hypothesis rule per operation: hypothesis sorts rules by their number of arguments and,
# with preconditions and its per-example rule subsets rejecting draws, falls back to the
# first ones — argument-less upkeep ran ten times as often as purchases.)
OPERATIONS = {
    "buy": 8, "pay_later": 2, "refund_arrives_before_its_payment": 1, "upkeep": 1,
    "learn": 3, "time_passes": 3, "ask_for_refund": 3, "decide_refund": 2,
    "refund_at_the_provider": 2, "refund_in_parts": 1, "open_dispute": 2, "rule_dispute": 2, "chargeback": 1,
    "chargeback_decided": 1, "withdraw": 5, "decide_payout": 2, "paypal_reports": 2,
    "payout_job_retried": 1, "change_commission": 1, "change_policies": 1,
}
WEIGHTED = [name for name, weight in OPERATIONS.items() for _ in range(weight)]
INDEX = st.integers(0, 999)


class MoneyMachine(RuleBasedStateMachine):
    cast: dict = {}
    ops = 0
    stats: Counter = Counter()
    timings: Counter = Counter()  # seconds in the operations, in the per-step checks, in the full checks
    spent: Counter = Counter()  # seconds per operation

    def __init__(self):
        super().__init__()
        db.session.remove()
        self.savepoint = db.session.get_bind().begin_nested()  # each example is rolled back
        self.offset = timedelta(0)  # simulated time, ahead of the clock
        self.intents: dict[int, str] = {}
        self.chargebacks: list[tuple[int, str]] = []
        self.books = Books(self.cast["creators"])
        self.dirty = True  # something may have changed since the last check
        self.sound = True  # every step so far ended with the books checked
        self.steps = 0
        FAKE["batches"].clear()
        FAKE["status"].clear()
        FAKE["next"] = "ok"

    def teardown(self):
        try:
            if self.sound:  # not after a failure, which it would only bury under a second one
                self.check(full=True)
        finally:
            db.session.rollback()
            db.session.remove()
            self.savepoint.rollback()

    @initialize(data=st.data())
    def policies(self, data):
        """Each example starts under its own escrow and payout policies (one operation)."""
        self.sound = False
        type(self).ops += 1
        self.stats["change_policies", self.change_policies(data.draw)] += 1
        self.dirty = True

    @rule(data=st.data())
    def step(self, data):
        self.sound = False
        name = data.draw(st.sampled_from(WEIGHTED), label="operation")
        started = time.perf_counter()
        outcome = getattr(self, name)(data.draw)
        spent = time.perf_counter() - started
        type(self).timings["operations"] += spent
        type(self).spent[name] += spent
        self.stats[name, outcome] += 1
        self.dirty = outcome != "skipped"  # nothing to do it to (e.g. no dispute open): nothing done
        if self.dirty:
            type(self).ops += 1
            self.steps += 1
        else:
            self.sound = True

    @invariant()
    def the_books_balance(self):
        if self.dirty:
            self.check(full=self.steps % FULL_CHECK_EVERY == 0 and self.steps > 0)
            self.dirty, self.sound = False, True

    def check(self, *, full: bool) -> None:
        started = time.perf_counter()
        self.books.check()
        type(self).timings["checks"] += time.perf_counter() - started
        if full:
            started = time.perf_counter()
            check_money(self.cast["creators"])
            type(self).timings["full checks"] += time.perf_counter() - started

    # helpers ---------------------------------------------------------------------------------
    def now(self):
        return utcnow() + self.offset

    def admin(self) -> User:
        return db.session.get(User, self.cast["admin"])

    @staticmethod
    def pick(items: list, n: int):
        return items[n % len(items)] if items else None

    def orders_where(self, test=lambda row: True) -> list:
        """Rows of the orders (as of the last check, i.e. now) that pass `test`, newest first:
        hypothesis favours index 0, and the newest order is the one in play."""
        return [row for row in reversed(self.books.orders) if test(row)]

    def pick_order(self, n: int, test=lambda row: True) -> Order | None:
        row = self.pick(self.orders_where(test), n)
        return None if row is None else db.session.get(Order, row.id)

    def some_order(self, draw) -> Order | None:
        """Mostly a paid order; one time in ten any order at all (which the service may refuse)."""
        anything, n = draw(st.integers(0, 9)) == 9, draw(INDEX)
        return self.pick_order(n, lambda row: anything or row.status == "paid")

    @staticmethod
    def attempt(action) -> str:
        """One adapter-sized unit of work: commit, or roll back on a domain error (a 4xx)."""
        try:
            action()
        except EXPECTED:
            db.session.rollback()
            return "refused"
        db.session.commit()
        return "done"

    def _pay(self, order: Order, how: str) -> None:
        pi = self.intents[order.id]
        if how == "once":
            deliver(checkout_completed(order, payment_intent=pi))
        elif how == "same_event_twice":
            event = checkout_completed(order, payment_intent=pi)
            deliver(event)
            deliver(event)
        elif how == "two_event_ids":
            deliver(checkout_completed(order, payment_intent=pi))
            deliver(checkout_completed(db.session.get(Order, order.id), payment_intent=pi))
        elif how == "delayed_then_succeeded":
            deliver(checkout_completed(order, payment_intent=pi, payment_status="unpaid"))
            deliver(checkout_async(db.session.get(Order, order.id), "succeeded", payment_intent=pi))
        elif how == "succeeded_before_completed":
            deliver(checkout_async(order, "succeeded", payment_intent=pi))
            deliver(checkout_completed(db.session.get(Order, order.id), payment_intent=pi,
                                       payment_status="unpaid"))
        elif how == "failed":
            deliver(checkout_completed(order, payment_intent=pi, payment_status="unpaid"))
            deliver(checkout_async(db.session.get(Order, order.id), "failed", payment_intent=pi))
        elif how == "expired":
            deliver(checkout_expired(order))

    # purchases -------------------------------------------------------------------------------
    def buy(self, draw):
        """A checkout, then its payment told one of the PAYMENTS ways. Mostly a course the buyer
        does not own yet (hypothesis favours index 0, which would be the same pair every
        time), sometimes one they do (refused)."""
        owned = {(row.buyer_id, row.course_id) for row in self.books.orders if row.status == "paid"}
        pairs = [(b, c) for b in self.cast["buyers"] for c in self.cast["courses"]]
        again, n, how = draw(st.integers(0, 9)) == 9, draw(INDEX), draw(st.sampled_from(PAYMENTS))
        buyer_id, course_id = self.pick([p for p in pairs if (p in owned) == again] or pairs, n)

        def go():
            order = checkout(db.session.get(User, buyer_id), db.session.get(Course, course_id), now=self.now())
            self.intents.setdefault(order.id, uid("pi"))
            db.session.commit()
            self._pay(db.session.get(Order, order.id), how)
        return self.attempt(go)

    def pay_later(self, draw):
        """A payment told for any order: pending (paid late), or already paid (told again)."""
        order, how = self.pick_order(draw(INDEX)), draw(st.sampled_from(PAYMENTS[:-1]))
        if order is None:
            return "skipped"
        return self.attempt(lambda: self._pay(order, how))

    def refund_arrives_before_its_payment(self, draw):
        """The provider's refund event for a charge we have not heard about yet: parked."""
        order = self.pick_order(draw(INDEX), lambda row: row.status == "pending")
        part = draw(st.integers(1, 100))
        if order is None:
            return "skipped"
        amount = max(1, order.price_minor * part // 100)
        return self.attempt(lambda: deliver(charge_refunded(order, amount=amount,
                                                            payment_intent=self.intents[order.id])))

    def upkeep(self, draw):
        """The periodic job: re-enqueue parked events (applied after commit), release what is due."""
        return self.attempt(lambda: (webhooks.retry_waiting_events(now=utcnow()),
                                     escrow.release_due(now=self.now())))

    # learning and time -----------------------------------------------------------------------
    def learn(self, draw):
        with_lessons = self.cast["with_lessons"]
        order = self.pick_order(draw(INDEX), lambda row: row.status == "paid" and row.course_id in with_lessons)
        lessons = draw(st.integers(1, 3))
        if order is None:
            return "skipped"
        buyer, course = db.session.get(User, order.buyer_id), db.session.get(Course, order.course_id)

        def go():
            for lesson in ordered_lessons(course.id)[:lessons]:
                progress.complete_lesson(buyer, lesson)
        return self.attempt(go)

    def time_passes(self, draw):
        self.offset += timedelta(days=draw(st.sampled_from([1, 3, 10, 29, 31])))
        return self.attempt(lambda: escrow.release_due(now=self.now()))

    # refunds ---------------------------------------------------------------------------------
    def ask_for_refund(self, draw):
        order, someone_else = self.some_order(draw), draw(st.integers(0, 9)) == 9
        if order is None:
            return "skipped"
        buyers = self.cast["buyers"]
        actor = db.session.get(User, buyers[(buyers.index(order.buyer_id) + 1) % len(buyers)]
                               if someone_else else order.buyer_id)
        return self.attempt(lambda: refunds.request_refund(actor, order, reason="Not what I hoped", now=self.now()))

    def decide_refund(self, draw):
        refund, approve = self.pick(refunds.refund_queue(), draw(INDEX)), draw(st.booleans())
        if refund is None:
            return "skipped"
        return self.attempt(lambda: refunds.decide_refund(self.admin(), refund, approve=approve, note="Decided"))

    def refund_at_the_provider(self, draw):
        """A refund made in Stripe's dashboard, told with or without the charge's refund list."""
        order = self.pick_order(draw(INDEX), lambda row: row.status == "paid")
        part, listed = draw(st.integers(1, 100)), draw(st.booleans())
        if order is None:
            return "skipped"
        amount = max(1, order.refundable_minor * part // 100)
        if listed:
            event = charge_refunded(order, amount=amount, already_refunded=order.refunded_minor)
        else:
            event = stripe_event("charge.refunded", {
                "id": uid("ch"), "object": "charge", "payment_intent": order.payment_intent_id,
                "amount": order.price_minor, "amount_refunded": order.refunded_minor + amount,
                "currency": "usd"})
        return self.attempt(lambda: deliver(event))

    def refund_in_parts(self, draw):
        """A sale refunded entirely at the provider in several partial refunds (each rounds its
        share of the commission; together they must return all of it and no more)."""
        order = self.pick_order(draw(INDEX), lambda row: row.status == "paid")
        cuts = draw(st.lists(st.integers(1, 99), min_size=1, max_size=4, unique=True))
        if order is None:
            return "skipped"
        left, done = order.refundable_minor, order.refunded_minor
        points = sorted({left * cut // 100 for cut in cuts} - {0}) + [left]
        amounts = [b - a for a, b in zip([0, *points], points, strict=False)]

        def go():
            total = done
            for amount in amounts:
                total += amount
                deliver(stripe_event("charge.refunded", {
                    "id": uid("ch"), "object": "charge", "payment_intent": order.payment_intent_id,
                    "amount": order.price_minor, "amount_refunded": total, "currency": "usd"}))
        return self.attempt(go)

    # disputes --------------------------------------------------------------------------------
    def open_dispute(self, draw):
        order = self.some_order(draw)
        if order is None:
            return "skipped"
        buyer = db.session.get(User, order.buyer_id)
        return self.attempt(lambda: disputes.open_dispute(buyer, order, reason="quality",
                                                          message="Not as described."))

    def rule_dispute(self, draw):
        dispute = self.pick(disputes.dispute_queue(), draw(INDEX))
        ruling = draw(st.sampled_from(["partial_refund", "rejected", "full_refund"]))
        part = draw(st.sampled_from([50, 10, 90, 1, 0, 100]))  # 0 and 100 % are out of bounds
        if dispute is None:
            return "skipped"
        amount = dispute.order.refundable_minor * part // 100
        return self.attempt(lambda: disputes.rule_on_dispute(self.admin(), dispute, ruling=ruling, refund_minor=amount,
                                                             decision="Ruled after reading both sides."))

    def chargeback(self, draw):
        order = self.pick_order(draw(INDEX), lambda row: row.paid)
        if order is None:
            return "skipped"
        dispute_id = uid("dp")
        self.chargebacks.append((order.id, dispute_id))
        return self.attempt(lambda: deliver(dispute_created(order, dispute_id=dispute_id)))

    def chargeback_decided(self, draw):
        chosen, won, twice = self.pick(self.chargebacks, draw(INDEX)), draw(st.booleans()), draw(st.booleans())
        if chosen is None:
            return "skipped"
        order_id, dispute_id = chosen

        def go():
            event = dispute_closed(db.session.get(Order, order_id), dispute_id=dispute_id, won=won)
            deliver(event)
            if twice:
                deliver({**event, "id": uid("evt")})
        return self.attempt(go)

    # payouts ---------------------------------------------------------------------------------
    def withdraw(self, draw):
        by_balance = sorted((self.books.available(c), c) for c in self.cast["creators"])
        available, creator_id = by_balance[-1] if draw(st.integers(0, 9)) != 9 else by_balance[0]  # mostly the richer
        who = db.session.get(User, creator_id)
        how = draw(st.sampled_from(["all", "minimum", "part", "all", "too_much", "tiny", "absurd"]))
        part, outcome = draw(st.integers(1, 100)), draw(st.sampled_from(["ok", "ok", "refuse", "error"]))
        amount = {"minimum": 2000, "part": max(1, available * part // 100), "all": available,
                  "too_much": available + 1, "tiny": 1, "absurd": -available}[how]
        FAKE["next"] = outcome
        result = self.attempt(lambda: payouts.request_payout(who, amount, now=self.now()))
        if result == "done":
            assert 0 < amount <= available, "a payout was allowed beyond what was available"
        return result

    def payout_in(self, status: str, n: int) -> Payout | None:
        row = self.pick([row for row in self.books.payouts if row.status == status], n)
        return None if row is None else db.session.get(Payout, row.id)

    def decide_payout(self, draw):
        payout, approve = self.payout_in("awaiting_approval", draw(INDEX)), draw(st.booleans())
        FAKE["next"] = draw(st.sampled_from(["ok", "refuse", "error"]))
        if payout is None:
            return "skipped"
        if approve:
            return self.attempt(lambda: payouts.approve_payout(self.admin(), payout))
        return self.attempt(lambda: payouts.reject_payout(self.admin(), payout, reason="Check your identity."))

    def paypal_reports(self, draw):
        """PayPal's batches move on; the polling job reads them."""
        outcomes = draw(st.lists(st.sampled_from(["SUCCESS", "DENIED", "PENDING"]), min_size=1, max_size=4))
        for batch, outcome in zip(sorted(FAKE["status"]), itertools.cycle(outcomes)):
            if FAKE["status"][batch] == "PENDING":
                FAKE["status"][batch] = outcome
        return self.attempt(payouts.poll_paypal_payouts)

    def payout_job_retried(self, draw):
        """RQ retries a payout job (after a 5xx or a crash): same key, paid at most once."""
        payout = self.payout_in("processing", draw(INDEX))
        FAKE["next"] = draw(st.sampled_from(["ok", "refuse", "error"]))
        if payout is None:
            return "skipped"
        # A job runs on a connection of its own: end this session's transaction first. Left
        # open (a SAVEPOINT on the shared test connection), it would hold the job's commits
        # inside it, and the next rollback of this session would undo them.
        payout_id = payout.id
        db.session.rollback()
        try:
            execute_payout(payout_id)
        except requests.HTTPError:  # a 5xx again: the job fails and RQ will retry it
            db.session.rollback()
            return "refused"
        return "done"

    # policies --------------------------------------------------------------------------------
    def change_commission(self, draw):
        rate = draw(st.sampled_from([0, 1, 999, 1500, 2500, 3333, 5000, 10000]))
        course = draw(st.integers(-1, 9))
        if course < 0:
            return self.attempt(lambda: set_commission_rate(self.admin(), rate, reason="Random change",
                                                            effective_at=self.now()))
        target = db.session.get(Course, self.pick(self.cast["courses"], course))
        return self.attempt(lambda: set_course_commission(self.admin(), target, rate, reason="Override"))

    def change_policies(self, draw):
        mode = draw(st.sampled_from(["none", "completion_or_days", "days"]))
        days, threshold = draw(st.sampled_from([0, 1, 7, 30])), draw(st.sampled_from([2500, 5000, 10_000, 100_000]))

        def go():
            set_setting(self.admin(), "escrow", {"mode": mode, "days": days})
            set_setting(self.admin(), "payouts", {"minimum_minor": 2000, "approval_threshold_minor": threshold})
        return self.attempt(go)


def build_cast(admin, make_user) -> dict:

    creators = [make_user(display_name=f"Creator {n}") for n in range(2)]
    buyers = [make_user(display_name=f"Buyer {n}") for n in range(20)]
    with_lessons = [course_with_lessons(creators[0], admin, title="SQL with lessons"),
                    course_with_lessons(creators[1], admin, price="49.99", title="Watercolour with lessons")]
    bare = [paid_course(creators[0], price_minor=1999), paid_course(creators[1], price_minor=199)]
    set_course_commission(admin, bare[1], 3333, reason="odd rounding")
    for creator in creators:
        connect_paypal(creator, email=f"creator{creator.id}@example.test")
    db.session.commit()
    return {"admin": admin.id, "creators": [c.id for c in creators], "buyers": [b.id for b in buyers],
            "courses": [c.id for c in with_lessons + bare], "with_lessons": [c.id for c in with_lessons]}


@pytest.mark.parametrize("shard", range(SHARDS))
def test_money_invariants_hold_under_random_operations(shard, app, admin, make_user, monkeypatch,
                                                      record_property):
    """One shard of the TOTAL_OPS operations (the shards run side by side under xdist)."""
    target = TOTAL_OPS // SHARDS + (shard < TOTAL_OPS % SHARDS)
    monkeypatch.setitem(app.config, "PAYPAL_CLIENT_ID", "paypal-invariants")
    monkeypatch.setitem(app.config, "PAYPAL_SECRET", "paypal-invariants-secret")
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", PAYPAL)
    MoneyMachine.cast = build_cast(admin, make_user)
    MoneyMachine.ops = 0
    MoneyMachine.stats.clear()
    MoneyMachine.timings.clear()
    MoneyMachine.spent.clear()
    cpu = time.process_time()
    started, runs = time.perf_counter(), []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.add_callback(responses.POST, f"{PAYPAL}/v1/oauth2/token", callback=_paypal_token)
        fake.add_callback(responses.POST, f"{PAYPAL}/v1/payments/payouts", callback=_paypal_payouts)
        fake.add_callback(responses.GET, re.compile(re.escape(PAYPAL) + r"/v1/payments/payouts/\w+"),
                          callback=_paypal_batch)
        while MoneyMachine.ops < target:
            examples = max(1, min(50, (target - MoneyMachine.ops) // STEPS + 1))
            run_started, run_ops = time.perf_counter(), MoneyMachine.ops
            run_state_machine_as_test(MoneyMachine, settings=settings(
                max_examples=examples, stateful_step_count=STEPS, deadline=None, database=None))
            runs.append((MoneyMachine.ops - run_ops, time.perf_counter() - run_started))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # Reported at the end of the run (tests/conftest.py; xdist carries it back).
    spent = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in MoneyMachine.timings.items())
    lines = [f"shard {shard + 1}/{SHARDS}: {MoneyMachine.ops} operations in {elapsed:.1f} s "
             f"({1000 * elapsed / max(MoneyMachine.ops, 1):.2f} ms/op, CPU {1000 * cpu / max(MoneyMachine.ops, 1):.2f} ms/op; "
             f"{spent}; {db.engine.dialect.name})",
             "  hypothesis runs (operations, ms/op): "
             + ", ".join(f"{ops} {1000 * seconds / max(ops, 1):.1f}" for ops, seconds in runs)]
    outcomes = defaultdict(dict)
    for (name, what), n in MoneyMachine.stats.items():
        outcomes[name][what] = n
    for name in OPERATIONS:
        lines.append(f"  {name}: " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes[name].items()))
                     + f" ({1000 * MoneyMachine.spent[name] / max(sum(outcomes[name].values()), 1):.1f} ms each)")
    record_property("money_invariants", (MoneyMachine.ops, "\n".join(lines)))
    assert MoneyMachine.ops >= target
