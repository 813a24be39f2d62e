"""Sales, commission, refunds and the creator's net, booked into CourseDay from the ledger.

Issue 17, parts 1, 2 and 6. The ledger is the truth: every money column of CourseDay is read
from the legs of the ledger transactions that touch a sale (kinds `sale`, `refund` and
`chargeback`, each with an order), classified by account:

- `asset:gateway:*` — what the buyer paid (a sale's debit: `gross`) or got back (a reversal's
  credit: `refunds`);
- `income:platform:commission` — the platform's commission (`commission`) or the part of it
  given back (`refunded_commission`);
- `liability:creator:<id>:*` — the creator's net (`creator_net`): their share of a sale, less
  what a refund or a lost chargeback took back, wherever it was booked (escrow or available).

Escrow release and payouts only move the creator's money between their own accounts (or out to
them), so they are not revenue and are not counted. `book_transaction` (the LedgerPosted
subscriber) and `rebuild` (grouped queries over a range of days) classify legs with the same
function, so the rollup agrees with the ledger by construction, and a rebuild gives back what
the subscriber counted.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import url_for

from app.accounts.models import User
from app.analytics import live, periods
from app.analytics.charts import Chart, Series
from app.analytics.models import CourseDay
from app.analytics.periods import Period, bucket_start, buckets
from app.analytics.rollups import bump, day_of, reset
from app.analytics.scope import Scope, daily_sums, totals
from app.analytics.tables import Column, Table
from app.catalog.models import Course
from app.commerce import ledger
from app.commerce.events import LedgerPosted
from app.commerce.models import LedgerAccount, LedgerEntry, LedgerTransaction, Order
from app.events import subscribe
from app.extensions import db
from app.formatting import format_date, format_percent
from app.money import format_money

SALE_KINDS = ("sale",)
REVERSAL_KINDS = ("refund", "chargeback")  # money given back to the buyer: a refund, a lost dispute
KINDS = SALE_KINDS + REVERSAL_KINDS
COLUMNS = ["sales", "gross", "commission", "refunds", "refunded_commission", "creator_net", "refund_count"]
TOP = 10  # rows per currency in the "top" tables


# --- classifying a transaction's legs ---------------------------------------------------------

def _creator_prefix(creator_id: int) -> str:
    return ledger.creator_account(creator_id, "")


def figures_of_legs(kind: str, creator_id: int, legs, *, transactions: int = 1) -> dict[str, int]:
    """The CourseDay money deltas of `transactions` ledger transactions of `kind` whose legs
    (account name, signed amount) are `legs` (summed per account or not: the result is the same)."""
    figures = dict.fromkeys(COLUMNS, 0)
    if kind in SALE_KINDS:
        figures["sales"] = transactions
    elif kind in REVERSAL_KINDS:
        figures["refund_count"] = transactions
    else:
        return figures
    creator_accounts = _creator_prefix(creator_id)
    gateway_accounts = ledger.gateway_account("")
    for name, amount in legs:
        amount = int(amount)
        if name.startswith(creator_accounts):
            figures["creator_net"] -= amount  # liabilities are credit-positive: what we owe them
        elif name == ledger.COMMISSION:
            if kind in SALE_KINDS:
                figures["commission"] -= amount
            else:
                figures["refunded_commission"] += amount
        elif name.startswith(gateway_accounts):
            if kind in SALE_KINDS:
                figures["gross"] += amount
            else:
                figures["refunds"] -= amount
    return figures


@subscribe(LedgerPosted)
def book_transaction(event: LedgerPosted) -> None:
    """A sale, refund or lost chargeback was booked: add it to its course's day (the day of
    the ledger transaction). The ledger emits this once per transaction, so a replayed webhook
    (which writes nothing new) is never counted twice."""
    if event.kind not in KINDS:
        return
    transaction = db.session.get(LedgerTransaction, event.transaction_id)
    if transaction is None or transaction.order_id is None:
        return
    order = db.session.get(Order, transaction.order_id)
    legs = db.session.execute(
        sa.select(LedgerAccount.name, LedgerEntry.amount)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerEntry.transaction_id == transaction.id)).all()
    figures = figures_of_legs(transaction.kind, order.creator_id, legs)
    bump(CourseDay, {"course_id": order.course_id, "day": day_of(transaction.created_at),
                     "creator_id": order.creator_id, "currency": order.currency}, **figures)
    live.figures_changed(order.creator_id)


# --- rebuilding from the ledger ---------------------------------------------------------------

def _utc_day(column):
    """The UTC day of a timestamp column, in SQL (a date on PostgreSQL, 'YYYY-MM-DD' on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def rebuild(start: date, end: date) -> None:
    """Recompute the money columns of CourseDay for the days start..end from the ledger."""
    reset(CourseDay, COLUMNS, start, end)
    day = _utc_day(LedgerTransaction.created_at).label("day")
    in_range = sa.and_(LedgerTransaction.kind.in_(KINDS),
                       LedgerTransaction.created_at >= _moment(start),
                       LedgerTransaction.created_at < _moment(end + timedelta(days=1)))
    keys = [Order.course_id, Order.creator_id, Order.currency, day, LedgerTransaction.kind]
    counts = {(course_id, creator_id, currency, _as_date(on), kind): int(n)
              for course_id, creator_id, currency, on, kind, n in db.session.execute(
                  sa.select(*keys, sa.func.count(LedgerTransaction.id))
                  .join(Order, Order.id == LedgerTransaction.order_id)
                  .where(in_range).group_by(*keys))}
    legs: dict[tuple, list[tuple[str, int]]] = defaultdict(list)
    for course_id, creator_id, currency, on, kind, name, amount in db.session.execute(
            sa.select(*keys, LedgerAccount.name, sa.func.sum(LedgerEntry.amount))
            .join(Order, Order.id == LedgerTransaction.order_id)
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(in_range).group_by(*keys, LedgerAccount.name)):
        legs[(course_id, creator_id, currency, _as_date(on), kind)].append((name, int(amount)))
    for key, transactions in counts.items():
        course_id, creator_id, currency, on, kind = key
        figures = figures_of_legs(kind, creator_id, legs.get(key, []), transactions=transactions)
        bump(CourseDay, {"course_id": course_id, "day": on, "creator_id": creator_id,
                         "currency": currency}, **figures)


# --- reading: shared pieces -------------------------------------------------------------------

def _by_currency(scope: Scope, period: Period, columns: list[str]) -> dict[str, dict[date, dict[str, int]]]:
    """{currency: {day: {column: sum}}} of the scope's CourseDay rows in the period."""
    result: dict[str, dict[date, dict[str, int]]] = defaultdict(dict)
    for (currency, day), figures in daily_sums(CourseDay, scope, period, columns, group_by="currency").items():
        result[currency][_as_date(day)] = figures
    return result


def _buckets(daily: dict[date, dict[str, int]], period: Period, grain: str,
             columns: list[str]) -> list[dict[str, int]]:
    """One {column: sum} per bucket of the period, oldest first (empty buckets as zeros)."""
    starts = buckets(period, grain)
    sums = {start: dict.fromkeys(columns, 0) for start in starts}
    for day, figures in daily.items():
        bucket = sums.get(bucket_start(day, grain))
        if bucket is not None:
            for name in columns:
                bucket[name] += figures.get(name, 0)
    return [sums[start] for start in starts]


def _has_money(figures: dict[str, int]) -> bool:
    return any(figures.get(name) for name in COLUMNS)


def average(total: int, count: int) -> int | None:
    """total / count in whole minor units, half up; None when there is nothing to divide."""
    if not count:
        return None
    return (2 * total + count) // (2 * count)


def rate(part: int, whole: int) -> float | None:
    """part / whole in percent (one decimal), None when whole is 0 (shown as —)."""
    if not whole:
        return None
    return round(part * 1000 / whole) / 10


@dataclass
class Figure:
    """A headline figure with the previous period's, as numbers and as shown."""

    label: str
    value: int | float | None
    previous: int | float | None
    text: str
    previous_text: str
    better: str = "up"


def _money_figure(label: str, value: int, previous: int, currency: str, better: str = "up") -> Figure:
    return Figure(label, value, previous, format_money(value, currency), format_money(previous, currency), better)


def _count_figure(label: str, value: int, previous: int, better: str = "up") -> Figure:
    return Figure(label, value, previous, f"{value:,}", f"{previous:,}", better)


def _percent_figure(label: str, value: float | None, previous: float | None, better: str = "down") -> Figure:
    def shown(number):
        return "—" if number is None else format_percent(number)
    # Without a denominator there is nothing to compare: show "—" and no change.
    return Figure(label, 0 if value is None else value, None if previous is None or value is None else previous,
                  shown(value), shown(previous), better)


def _optional_money_figure(label: str, value: int | None, previous: int | None, currency: str) -> Figure:
    def shown(amount):
        return "—" if amount is None else format_money(amount, currency)
    return Figure(label, 0 if value is None else value, None if previous is None or value is None else previous,
                  shown(value), shown(previous), "up")


def _aligned(values: list, length: int) -> list:
    """The previous period's values bucket by bucket against the current one's `length`
    buckets: cut when longer, None (no such bucket) when shorter."""
    return (list(values) + [None] * length)[:length]


# --- the creator's revenue (studio) --------------------------------------------------------------

@dataclass
class CurrencyRevenue:
    currency: str
    figures: list[Figure]
    chart: Chart
    table: Table


@dataclass
class Revenue:
    currencies: list[CurrencyRevenue] = field(default_factory=list)


def _revenue_data(scope: Scope, period: Period, grain: str):
    """Per currency with any money in the period or the one before: (currency, totals,
    previous totals, buckets, previous buckets)."""
    previous = period.previous()
    now, before = _by_currency(scope, period, COLUMNS), _by_currency(scope, previous, COLUMNS)
    for currency in sorted(set(now) | set(before)):
        summed, earlier = totals(now.get(currency, {}), COLUMNS), totals(before.get(currency, {}), COLUMNS)
        if _has_money(summed) or _has_money(earlier):
            yield (currency, summed, earlier, _buckets(now.get(currency, {}), period, grain, COLUMNS),
                   _buckets(before.get(currency, {}), previous, grain, COLUMNS))


def creator_revenue(scope: Scope, period: Period, grain: str) -> Revenue:
    """A creator's (or one course's) money for the period, per currency, beside the previous
    period: gross, commission, refunds, their net, sales and the average price paid; a chart
    of them over time (the previous period's net as a line) and a table of the same numbers."""
    revenue = Revenue()
    starts = buckets(period, grain)
    labels = [periods.bucket_label(start, grain) for start in starts]
    whose = f"“{scope.course_title}”" if scope.course_id else "your courses"
    for currency, now, before, per_bucket, earlier in _revenue_data(scope, period, grain):
        figures = [
            _money_figure("Net earnings", now["creator_net"], before["creator_net"], currency),
            _money_figure("Gross sales", now["gross"], before["gross"], currency),
            _money_figure("Platform commission", now["commission"] - now["refunded_commission"],
                          before["commission"] - before["refunded_commission"], currency, better=""),
            _money_figure("Refunds", now["refunds"], before["refunds"], currency, better="down"),
            _count_figure("Sales", now["sales"], before["sales"]),
            _optional_money_figure("Average price paid", average(now["gross"], now["sales"]),
                                   average(before["gross"], before["sales"]), currency),
        ]
        key = currency.lower()
        chart = Chart(
            id=f"revenue-chart-{key}", title=f"Revenue by {grain} ({currency})",
            description=(f"Gross sales, commission, refunds and net earnings of {whose} in {currency} "
                         f"per {grain} from {format_date(period.start)} to {format_date(period.end)}; "
                         f"the line is the net earnings of the period before."),
            labels=labels, unit="money", currency=currency,
            series=[Series("Gross sales", [b["gross"] for b in per_bucket], "bar"),
                    Series("Commission", [b["commission"] - b["refunded_commission"] for b in per_bucket], "bar"),
                    Series("Refunds", [b["refunds"] for b in per_bucket], "bar"),
                    Series("Net earnings", [b["creator_net"] for b in per_bucket], "bar"),
                    Series("Net earnings, period before",
                           _aligned([b["creator_net"] for b in earlier], len(starts)), "line")])
        table = Table(
            id=f"revenue-{key}", title=f"Revenue by {grain} ({currency})",
            columns=[Column(grain.capitalize(), "text"), Column("Sales"), Column("Gross sales", "money"),
                     Column("Commission", "money"), Column("Refunds", "money"), Column("Refund count"),
                     Column("Net earnings", "money"), Column("Average price paid", "money")],
            rows=[[label, b["sales"], (b["gross"], currency),
                   (b["commission"] - b["refunded_commission"], currency), (b["refunds"], currency),
                   b["refund_count"], (b["creator_net"], currency),
                   None if not b["sales"] else (average(b["gross"], b["sales"]), currency)]
                  for label, b in zip(labels, per_bucket, strict=True)],
            caption=("Commission is the platform's share less what refunds gave back; net earnings are "
                     "what you earned after commission and refunds, held or available."))
        revenue.currencies.append(CurrencyRevenue(currency, figures, chart, table))
    return revenue


# --- the platform's money (admin) ----------------------------------------------------------------

@dataclass
class CurrencyMoney:
    currency: str
    figures: list[Figure]
    chart: Chart


@dataclass
class PlatformMoney:
    currencies: list[CurrencyMoney] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def platform_money(scope: Scope, period: Period, grain: str, *, viewer=None) -> PlatformMoney:
    """The platform's money for the period, per currency, beside the previous period: GMV,
    platform revenue (commission less refunded commission), refunds (amount, count, rate); a
    chart over time; and the tables of `platform_money_tables`."""
    money = PlatformMoney(tables=platform_money_tables(period, viewer=viewer))
    starts = buckets(period, grain)
    labels = [periods.bucket_label(start, grain) for start in starts]
    for currency, now, before, per_bucket, earlier in _revenue_data(scope, period, grain):
        figures = [
            _money_figure("Gross merchandise value", now["gross"], before["gross"], currency),
            _money_figure("Platform revenue", now["commission"] - now["refunded_commission"],
                          before["commission"] - before["refunded_commission"], currency),
            _count_figure("Sales", now["sales"], before["sales"]),
            _money_figure("Refunds", now["refunds"], before["refunds"], currency, better="down"),
            _count_figure("Refunds and lost disputes", now["refund_count"], before["refund_count"], better="down"),
            _percent_figure("Refund rate", rate(now["refund_count"], now["sales"]),
                            rate(before["refund_count"], before["sales"])),
        ]
        chart = Chart(
            id=f"money-chart-{currency.lower()}", title=f"Money by {grain} ({currency})",
            description=(f"Gross merchandise value, platform revenue and refunds in {currency} per {grain} "
                         f"from {format_date(period.start)} to {format_date(period.end)}; the line is "
                         "the platform revenue of the period before."),
            labels=labels, unit="money", currency=currency,
            series=[Series("Gross merchandise value", [b["gross"] for b in per_bucket], "bar"),
                    Series("Platform revenue", [b["commission"] - b["refunded_commission"] for b in per_bucket], "bar"),
                    Series("Refunds", [b["refunds"] for b in per_bucket], "bar"),
                    Series("Revenue, period before",
                           _aligned([b["commission"] - b["refunded_commission"] for b in earlier], len(starts)),
                           "line")])
        money.currencies.append(CurrencyMoney(currency, figures, chart))
    return money


TABLE_IDS = ("money-top-creators", "money-top-courses", "money-creators")


def _names(user_ids) -> dict[int, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _creator_cell(creator_id: int, names: dict[int, str], link: bool):
    name = names.get(creator_id) or f"Creator #{creator_id}"
    return (name, url_for("admin.user_detail", user_id=creator_id)) if link else name


BREAKDOWN_SHOWN = 50  # creators on the page; the CSV has every one


def _top(rows: list, limit: int | None) -> list:
    """Rows sorted by currency, then the biggest gross first; at most `limit` per currency."""
    rows = sorted(rows, key=lambda row: (row["currency"], -row["gross"], row["id"]))
    if limit is None:
        return rows
    kept, seen = [], defaultdict(int)
    for row in rows:
        if seen[row["currency"]] < limit:
            kept.append(row)
            seen[row["currency"]] += 1
    return kept


def platform_money_tables(period: Period, *, viewer=None) -> list[Table]:
    """The admin's money tables for the period (ids in TABLE_IDS), summed from CourseDay in SQL:
    top creators and top courses by gross sales, and every creator with money in the period.
    Amounts are per currency (a creator selling in two currencies has a row for each). Creator
    names link to the admin's user page when `viewer` may open it (or when no viewer is given)."""
    link = viewer is None or viewer.has_permission("manage_users")
    money = [sa.func.coalesce(sa.func.sum(getattr(CourseDay, name)), 0).label(name) for name in COLUMNS]
    in_period = sa.and_(CourseDay.day >= period.start, CourseDay.day <= period.end)
    creators = [
        {"id": row.creator_id, "currency": row.currency, "courses": int(row.courses),
         **{name: int(getattr(row, name)) for name in COLUMNS}}
        for row in db.session.execute(
            sa.select(CourseDay.creator_id, CourseDay.currency,
                      sa.func.count(sa.distinct(sa.case((CourseDay.sales > 0, CourseDay.course_id)))).label("courses"),
                      *money)
            .where(in_period).group_by(CourseDay.creator_id, CourseDay.currency))
        if any(getattr(row, name) for name in COLUMNS)]
    courses = [
        {"id": row.course_id, "creator_id": row.creator_id, "currency": row.currency,
         **{name: int(getattr(row, name)) for name in COLUMNS}}
        for row in db.session.execute(
            sa.select(CourseDay.course_id, CourseDay.creator_id, CourseDay.currency, *money)
            .where(in_period).group_by(CourseDay.course_id, CourseDay.creator_id, CourseDay.currency))
        if any(getattr(row, name) for name in COLUMNS)]
    top_courses = _top(courses, TOP)
    names = _names([row["id"] for row in creators] + [row["creator_id"] for row in top_courses])
    titles = dict(db.session.execute(sa.select(Course.id, Course.title).where(
        Course.id.in_([row["id"] for row in top_courses] or [0]))).all())

    def amount(row, name):
        return (row[name], row["currency"])

    top_creators = Table(
        id="money-top-creators", title="Top creators",
        columns=[Column("Creator", "link" if link else "text"), Column("Sales"), Column("Gross sales", "money"),
                 Column("Creator net", "money")],
        rows=[[_creator_cell(row["id"], names, link), row["sales"], amount(row, "gross"), amount(row, "creator_net")]
              for row in _top(creators, TOP)],
        caption=f"The {TOP} creators with the most gross sales in each currency.")
    top_course_table = Table(
        id="money-top-courses", title="Top courses",
        columns=[Column("Course", "link"), Column("Creator", "text"), Column("Sales"),
                 Column("Gross sales", "money"), Column("Refunds", "money")],
        rows=[[(titles.get(row["id"], f"Course #{row['id']}"),
                url_for("studio.course_analytics", course_id=row["id"])),
               names.get(row["creator_id"], ""), row["sales"], amount(row, "gross"), amount(row, "refunds")]
              for row in top_courses],
        caption=f"The {TOP} courses with the most gross sales in each currency.")
    breakdown = Table(
        id="money-creators", title="Money by creator",
        columns=[Column("Creator", "link" if link else "text"), Column("Courses sold"), Column("Sales"),
                 Column("Gross sales", "money"), Column("Commission", "money"), Column("Refunds", "money"),
                 Column("Creator net", "money")],
        rows=[[_creator_cell(row["id"], names, link), row["courses"], row["sales"], amount(row, "gross"),
               (row["commission"] - row["refunded_commission"], row["currency"]), amount(row, "refunds"),
               amount(row, "creator_net")]
              for row in _top(creators, None)],
        caption="Every creator with sales or refunds in the period. Commission is less what refunds gave back.",
        shown=BREAKDOWN_SHOWN)
    return [top_creators, top_course_table, breakdown]
