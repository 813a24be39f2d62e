"""The platform's day for admins: people, the review queue, moderation, disputes, payouts.

Subscribers count each fact into `PlatformDay` on the day it happened (the user's sign-up, the
review decision, the report, the dispute, the payout's settlement), and the time from a
course's submission to its decision into `DurationDay` (metric `review_decision`, scope 0).
`rebuild(start, end)` recomputes the same columns from the source tables, so both agree.

`platform_overview(period, grain)` reads them back for `/admin/analytics`, with a few current
counts (courses waiting for review, open reports and disputes, payouts waiting), each through
an index; `platform_tables(overview)` is every table of the page, which is also its CSV.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.accounts.events import UserSignedUp
from app.accounts.models import User
from app.analytics import live
from app.analytics.models import CourseDay, DurationDay, PlatformDay
from app.analytics.periods import Period, bucket_label, buckets
from app.analytics.rollups import bump, day_of, hours_between, reset
from app.analytics.scope import Scope, daily_sums, per_bucket, totals
from app.analytics.tables import Column, Table
from app.catalog.events import CoursePublished, CourseReviewed, CourseSubmitted
from app.catalog.models import Course, ReviewDecision
from app.commerce.events import DisputeClosed, DisputeOpened, PayoutSettled
from app.commerce.models import Dispute, Payout
from app.events import subscribe
from app.extensions import db
from app.moderation.events import ReportClosed, ReportOpened
from app.moderation.models import Report

COLUMNS = ["new_learners", "new_creators", "submissions", "approvals", "rejections",
           "reports_opened", "reports_resolved", "disputes_opened", "disputes_lost", "payouts_sent"]
REVIEW_METRIC = "review_decision"
LOST_RULINGS = ("full_refund", "partial_refund")  # an admin's ruling for the buyer
WAITING_PAYOUTS = {  # status -> what the admin page calls it, in the order money moves
    "awaiting_approval": "Needing an admin's approval",
    "queued": "Requested, about to be sent",
    "processing": "Being sent (in flight)",
}


def _count(column: str, moment: datetime | None) -> None:
    if moment is None:
        return
    bump(PlatformDay, {"day": day_of(moment)}, **{column: 1})
    live.figures_changed(None)


def is_lost(dispute: Dispute) -> bool:
    """Whether a closed dispute went the buyer's way (a lost chargeback, or a refund ruling)."""
    return dispute.status == "lost" or (dispute.status == "ruled" and dispute.ruling in LOST_RULINGS)


# --- subscribers: one fact, one bump on the day it happened -------------------------------

@subscribe(UserSignedUp)
def count_new_learner(event: UserSignedUp) -> None:
    user = db.session.get(User, event.user_id)
    _count("new_learners", user and user.created_at)


def first_publications(creator_ids: list[int] | None = None) -> dict[int, datetime]:
    """When each creator's first course was first published: the earliest approval of any of
    their courses (decisions are never deleted), or a course's publication date where a course
    was published without a recorded decision (older data)."""
    approved = (sa.select(Course.creator_id.label("creator_id"), ReviewDecision.created_at.label("moment"))
                .join(Course, Course.id == ReviewDecision.course_id)
                .where(ReviewDecision.decision == "approved"))
    published = (sa.select(Course.creator_id.label("creator_id"), Course.published_at.label("moment"))
                 .where(Course.published_at.is_not(None)))
    if creator_ids is not None:
        approved = approved.where(Course.creator_id.in_(creator_ids))
        published = published.where(Course.creator_id.in_(creator_ids))
    first: dict[int, datetime] = {}
    for statement in (approved, published):
        for creator_id, moment in db.session.execute(statement):
            if moment is not None and (creator_id not in first or moment < first[creator_id]):
                first[creator_id] = moment
    return first


@subscribe(CoursePublished)
def count_new_creator(event: CoursePublished) -> None:
    """A creator counts once, on the day their first course was first published."""
    course = db.session.get(Course, event.course_id)
    if course is None or course.published_at is None:
        return
    first = first_publications([course.creator_id]).get(course.creator_id)
    if first is not None and first == course.published_at:
        _count("new_creators", first)


@subscribe(CourseSubmitted)
def count_submission(event: CourseSubmitted) -> None:
    course = db.session.get(Course, event.course_id)
    _count("submissions", course and course.submitted_at)


@subscribe(CourseReviewed)
def count_review_decision(event: CourseReviewed) -> None:
    decision = db.session.get(ReviewDecision, event.decision_id)
    if decision is None:
        return
    day = day_of(decision.created_at)
    column = "approvals" if decision.decision == "approved" else "rejections"
    bump(PlatformDay, {"day": day}, **{column: 1})
    if decision.submitted_at is not None:
        bump(DurationDay, {"metric": REVIEW_METRIC, "scope_id": 0, "day": day,
                           "hours": hours_between(decision.submitted_at, decision.created_at)}, count=1)
    live.figures_changed(None)


@subscribe(ReportOpened)
def count_report_opened(event: ReportOpened) -> None:
    report = db.session.get(Report, event.report_id)
    _count("reports_opened", report and report.created_at)


@subscribe(ReportClosed)
def count_report_resolved(event: ReportClosed) -> None:
    report = db.session.get(Report, event.report_id)
    _count("reports_resolved", report and report.resolved_at)


@subscribe(DisputeOpened)
def count_dispute_opened(event: DisputeOpened) -> None:
    dispute = db.session.get(Dispute, event.dispute_id)
    _count("disputes_opened", dispute and dispute.created_at)


@subscribe(DisputeClosed)
def count_dispute_lost(event: DisputeClosed) -> None:
    dispute = db.session.get(Dispute, event.dispute_id)
    if dispute is not None and is_lost(dispute):
        _count("disputes_lost", dispute.closed_at)


@subscribe(PayoutSettled)
def count_payout_sent(event: PayoutSettled) -> None:
    payout = db.session.get(Payout, event.payout_id)
    _count("payouts_sent", payout and payout.settled_at)


# --- rebuild: the same columns from the source tables -------------------------------------

def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The moments from the start of `start` (included) to the end of `end` (excluded), UTC."""
    return (datetime.combine(start, time.min, tzinfo=UTC),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))


def _moments(column, *conditions) -> list[datetime]:
    return [moment for moment in db.session.scalars(sa.select(column).where(*conditions)) if moment is not None]


def rebuild(start: date, end: date) -> None:
    """Recompute PlatformDay (and review-decision durations) for start..end."""
    low, high = _bounds(start, end)
    reset(PlatformDay, COLUMNS, start, end)
    db.session.execute(sa.delete(DurationDay).where(DurationDay.metric == REVIEW_METRIC,
                                                    DurationDay.day >= start, DurationDay.day <= end))
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def within(column):
        return (column >= low, column < high)

    sources = {
        "new_learners": _moments(User.created_at, *within(User.created_at)),
        # Each submission ends on a decision (which keeps when it was submitted) or still waits.
        "submissions": [*_moments(ReviewDecision.submitted_at, *within(ReviewDecision.submitted_at)),
                        *_moments(Course.submitted_at, Course.status == "under_review",
                                  *within(Course.submitted_at))],
        "reports_opened": _moments(Report.created_at, *within(Report.created_at)),
        "reports_resolved": _moments(Report.resolved_at, Report.status != "open", *within(Report.resolved_at)),
        "disputes_opened": _moments(Dispute.created_at, *within(Dispute.created_at)),
        "disputes_lost": _moments(Dispute.closed_at, *within(Dispute.closed_at), sa.or_(
            Dispute.status == "lost", sa.and_(Dispute.status == "ruled", Dispute.ruling.in_(LOST_RULINGS)))),
        "payouts_sent": _moments(Payout.settled_at, *within(Payout.settled_at)),
        "new_creators": [moment for moment in first_publications().values() if low <= moment < high],
    }
    durations: dict[tuple[date, int], int] = defaultdict(int)
    for decision, created_at, submitted_at in db.session.execute(
            sa.select(ReviewDecision.decision, ReviewDecision.created_at, ReviewDecision.submitted_at)
            .where(*within(ReviewDecision.created_at))):
        day = day_of(created_at)
        counts[day]["approvals" if decision == "approved" else "rejections"] += 1
        if submitted_at is not None:
            durations[(day, hours_between(submitted_at, created_at))] += 1
    for column, moments in sources.items():
        for moment in moments:
            counts[day_of(moment)][column] += 1
    for day, figures in counts.items():
        bump(PlatformDay, {"day": day}, **figures)
    for (day, hours), count in durations.items():
        bump(DurationDay, {"metric": REVIEW_METRIC, "scope_id": 0, "day": day, "hours": hours}, count=count)


# --- reading: the admin page ----------------------------------------------------------------

def median_hours(metric: str, scope_id: int, period: Period) -> float | None:
    """The median of a DurationDay metric over the period (None when nothing was counted)."""
    rows = db.session.execute(
        sa.select(DurationDay.hours, sa.func.sum(DurationDay.count))
        .where(DurationDay.metric == metric, DurationDay.scope_id == scope_id,
               DurationDay.day >= period.start, DurationDay.day <= period.end)
        .group_by(DurationDay.hours).order_by(DurationDay.hours)).all()
    total = sum(int(count) for _, count in rows)
    if total == 0:
        return None
    ordered = [(int(hours), int(count)) for hours, count in rows]

    def nth(n: int) -> int:  # the n-th smallest value, from 0
        seen = 0
        for hours, count in ordered:
            seen += count
            if n < seen:
                return hours
        return ordered[-1][0]  # pragma: no cover (n < total)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def rate(part: int, whole: int) -> float | None:
    """part / whole as a percentage, None ("—") when there is no whole."""
    return None if not whole else part * 100 / whole


@dataclass
class MoneyLine:
    currency: str
    count: int = 0
    amount: int = 0  # minor units


@dataclass
class PlatformOverview:
    period: Period
    previous: Period
    grain: str
    now: dict[str, int]  # PlatformDay totals of the period (and `sales` from CourseDay)
    before: dict[str, int]  # the same for the previous period
    daily: dict  # {day: {column: sum}} of the period (the charts and tables per bucket)
    median_decision: float | None
    median_decision_before: float | None
    waiting_review: int  # courses waiting for a decision now
    open_reports: int  # reports waiting for a moderator now
    open_disputes: int
    payouts_sent: list[MoneyLine] = field(default_factory=list)
    payouts_sent_before: list[MoneyLine] = field(default_factory=list)
    payouts_waiting: list[tuple[str, MoneyLine]] = field(default_factory=list)  # (status label, line)

    @property
    def dispute_rate(self) -> float | None:
        return rate(self.now["disputes_opened"], self.now["sales"])

    @property
    def dispute_rate_before(self) -> float | None:
        return rate(self.before["disputes_opened"], self.before["sales"])

    @property
    def labels(self) -> list[str]:
        return [bucket_label(start, self.grain) for start in buckets(self.period, self.grain)]

    def series(self, column: str) -> list[int]:
        return per_bucket(self.daily, self.period, self.grain, column)


def _figures(period: Period) -> tuple[dict, dict[str, int]]:
    daily = daily_sums(PlatformDay, Scope(), period, COLUMNS)
    sales = daily_sums(CourseDay, Scope(), period, ["sales"])
    for day, figures in sales.items():
        daily.setdefault(day, dict.fromkeys(COLUMNS, 0))["sales"] = figures["sales"]
    return daily, totals(daily, [*COLUMNS, "sales"])


def payouts_sent(period: Period) -> list[MoneyLine]:
    """Payouts that reached creators in the period, per currency (through ix_payout_settled_at;
    one the provider later returned still counts as sent that day)."""
    low, high = _bounds(period.start, period.end)
    rows = db.session.execute(
        sa.select(Payout.currency, sa.func.count(), sa.func.coalesce(sa.func.sum(Payout.amount_minor), 0))
        .where(Payout.settled_at >= low, Payout.settled_at < high)
        .group_by(Payout.currency).order_by(Payout.currency))
    return [MoneyLine(currency, int(count), int(amount)) for currency, count, amount in rows]


def payouts_waiting() -> list[tuple[str, MoneyLine]]:
    """Payouts not yet paid, by stage and currency, now (through the index on payout.status)."""
    rows = db.session.execute(
        sa.select(Payout.status, Payout.currency, sa.func.count(),
                  sa.func.coalesce(sa.func.sum(Payout.amount_minor), 0))
        .where(Payout.status.in_(list(WAITING_PAYOUTS)))
        .group_by(Payout.status, Payout.currency))
    found = {(status, currency): MoneyLine(currency, int(count), int(amount))
             for status, currency, count, amount in rows}
    order = list(WAITING_PAYOUTS)
    return [(WAITING_PAYOUTS[status], found[(status, currency)])
            for status, currency in sorted(found, key=lambda key: (order.index(key[0]), key[1]))]


def _count_where(model, *conditions) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0)


def platform_overview(period: Period, grain: str) -> PlatformOverview:
    """Everything the admin page shows outside the money section, for `period` and the one before."""
    previous = period.previous()
    daily, now = _figures(period)
    _, before = _figures(previous)
    return PlatformOverview(
        period=period, previous=previous, grain=grain, now=now, before=before, daily=daily,
        median_decision=median_hours(REVIEW_METRIC, 0, period),
        median_decision_before=median_hours(REVIEW_METRIC, 0, previous),
        waiting_review=_count_where(Course, Course.status == "under_review"),
        open_reports=_count_where(Report, Report.status == "open"),
        open_disputes=_count_where(Dispute, Dispute.status == "open"),
        payouts_sent=payouts_sent(period), payouts_sent_before=payouts_sent(previous),
        payouts_waiting=payouts_waiting())


def _per_bucket_table(overview: PlatformOverview, table_id: str, title: str, caption: str,
                      columns: list[tuple[str, str]]) -> Table:
    starts = buckets(overview.period, overview.grain)
    values = [overview.series(column) for column, _ in columns]
    rows = [[start, *(series[i] for series in values)] for i, start in enumerate(starts)]
    return Table(id=table_id, title=title, caption=caption,
                 columns=[Column(overview.grain.capitalize() + (" starting" if overview.grain != "day" else ""),
                                 "date"),
                          *(Column(heading) for _, heading in columns)], rows=rows)


def platform_tables(overview: PlatformOverview) -> list[Table]:
    """The page's own tables (the money section's come from app.analytics.money), each also a CSV."""
    people = _per_bucket_table(overview, "new-people", "New learners and creators",
                               "Accounts created, and creators whose first course was published.",
                               [("new_learners", "New learners"), ("new_creators", "New creators")])
    review = _per_bucket_table(overview, "review-queue", "Review queue",
                               "Courses submitted for review, and the decisions made on them.",
                               [("submissions", "Submitted"), ("approvals", "Approved"),
                                ("rejections", "Rejected")])
    moderation = _per_bucket_table(overview, "moderation", "Reports",
                                   "Reports of posts, reviews and messages, and those a moderator closed.",
                                   [("reports_opened", "Reports made"), ("reports_resolved", "Reports closed")])
    disputes = _per_bucket_table(overview, "disputes", "Disputes",
                                 "Disputes opened (by buyers or their banks), those the buyer won, and sales.",
                                 [("disputes_opened", "Disputes opened"), ("disputes_lost", "Won by the buyer"),
                                  ("sales", "Sales")])
    disputes.columns.append(Column("Dispute rate", "percent"))
    for row in disputes.rows:
        row.append(rate(row[1], row[3]))
    sent = Table(id="payouts-sent", title="Payouts sent", caption="Payouts that reached creators in the period.",
                 columns=[Column("Currency", "text"), Column("Payouts"), Column("Amount", "money")],
                 rows=[[line.currency, line.count, (line.amount, line.currency)] for line in overview.payouts_sent],
                 empty="No payouts were sent in this period.")
    waiting = Table(id="payouts-waiting", title="Payouts waiting now",
                    caption="Payouts creators asked for that have not reached them yet.",
                    columns=[Column("Stage", "text"), Column("Currency", "text"), Column("Payouts"),
                             Column("Amount", "money")],
                    rows=[[label, line.currency, line.count, (line.amount, line.currency)]
                          for label, line in overview.payouts_waiting],
                    empty="No payout is waiting.")
    return [people, review, moderation, disputes, sent, waiting]
