"""Admin finance (`admin:manage_finance`), as the admin finance pages offer it: the figures per
period, the commission rate and its history, payouts waiting for approval, and rulings on
open disputes. Approving or rejecting a payout and ruling on a dispute move money, so they
need an `Idempotency-Key`.

As for every admin scope, `Grant.allows` checks on each call that the user still holds
`manage_finance`, and the services check it again, as they do for the pages.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from flask import current_app, g
from pydantic import Field

from app.analytics.finance import PERIODS, sales_by_period
from app.blueprints.api import bp
from app.blueprints.api.admin import person
from app.blueprints.api.keysets import keyset_page, keyset_position
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Amount, Person, Time
from app.blueprints.htmx import client_ip
from app.commerce import disputes, payouts, settings
from app.extensions import db

TAG = "Admin: finance"
SCOPE = "admin:manage_finance"


# --- figures -----------------------------------------------------------------------------

class FiguresQuery(ApiModel):
    period: Literal[tuple(PERIODS)] = Field("month", description="The length of each row")


class PeriodFigures(ApiModel):
    label: str = Field(description="The period: `2026-12-07`, `2026-W49`, `2026-12` or `2026`")
    sales: int
    gross: Amount
    platform_revenue: Amount = Field(description="Commission, less the commission refunded")
    refunds: Amount
    net: Amount = Field(description="Gross less refunds")


class FinanceFigures(ApiModel):
    period: str
    rows: list[PeriodFigures] = Field(
        description="The last 12 periods with any sale or refund, newest first; a row per currency")


@bp.get("/admin/finance/figures")
@operation(tags=[TAG], scope=SCOPE, query=FiguresQuery, model=FinanceFigures)
def finance_figures(query: FiguresQuery):
    """Sales figures per period

    The figures of the admin finance page: sales, gross, platform revenue, refunds and net, one
    row per period and currency (amounts of different currencies are never added)."""
    return FinanceFigures(period=query.period, rows=[
        PeriodFigures(label=row.label, sales=row.sales, gross=Amount.of(row.gross, row.currency),
                      platform_revenue=Amount.of(row.platform_revenue, row.currency),
                      refunds=Amount.of(row.refunds, row.currency), net=Amount.of(row.net, row.currency))
        for row in sales_by_period(query.period)])


# --- commission --------------------------------------------------------------------------

class CommissionRateEntry(ApiModel):
    id: int
    rate_bps: int = Field(description="Basis points: 1500 is 15%")
    effective_at: Time
    reason: str
    set_by: Person | None
    created_at: Time


class CommissionSettings(ApiModel):
    rate_bps: int = Field(description="The rate in force now")
    default_rate_bps: int = Field(description="The configured rate, in force until an admin sets one")
    history: list[CommissionRateEntry] = Field(description="Every change, the latest effective first")


class CommissionChange(ApiModel):
    rate_bps: int = Field(description="Basis points, 0 to 10000 (1500 is 15%)")
    reason: str = Field(description="Why it changes; kept in the history")
    effective_on: date | None = Field(None, description="From the start of this day (UTC); null: now")


def _rate_entry(entry) -> CommissionRateEntry:
    return CommissionRateEntry(id=entry.id, rate_bps=entry.rate_bps, effective_at=entry.effective_at,
                               reason=entry.reason, set_by=person(entry.set_by), created_at=entry.created_at)


@bp.get("/admin/finance/commission")
@operation(tags=[TAG], scope=SCOPE, model=CommissionSettings)
def commission():
    """The commission rate and its history"""
    return CommissionSettings(rate_bps=settings.commission_rate_at(),
                              default_rate_bps=current_app.config["DEFAULT_COMMISSION_BPS"],
                              history=[_rate_entry(entry) for entry in settings.commission_history()])


@bp.post("/admin/finance/commission")
@operation(tags=[TAG], scope=SCOPE, json=CommissionChange, model=CommissionRateEntry, ok=201)
def commission_set(json: CommissionChange):
    """Set the commission rate

    For sales from now, or from the start of a day; sales already made keep their rate."""
    entry = settings.set_commission_rate(
        g.api_grant.user, json.rate_bps, reason=json.reason,
        effective_at=settings.effective_from(json.effective_on) if json.effective_on else None, ip=client_ip())
    db.session.commit()
    return _rate_entry(entry), 201


# --- payouts -----------------------------------------------------------------------------

class AdminPayout(ApiModel):
    id: int
    amount: Amount
    creator: Person
    provider: str = Field(description="`stripe` or `paypal`")
    destination: str = Field(description="The creator's account at the provider")
    status: str = Field(description="`awaiting_approval`, `queued`, `processing`, `paid`, `failed` or `rejected`")
    created_at: Time


class PayoutQueue(Page):
    items: list[AdminPayout]


class PayoutRejection(ApiModel):
    reason: str = Field(description="The creator sees it")


def _payout(payout) -> AdminPayout:
    return AdminPayout(id=payout.id, amount=Amount.of(payout.amount_minor, payout.currency),
                       creator=person(payout.creator), provider=payout.provider, destination=payout.destination,
                       status=payout.status, created_at=payout.created_at)


@bp.get("/admin/finance/payouts")
@operation(tags=[TAG], scope=SCOPE, query=CursorQuery, model=PayoutQueue)
def payout_list(query: CursorQuery):
    """Payouts waiting for approval

    Withdrawals above the approval threshold, the oldest first."""
    found, cursor = keyset_page(
        payouts.approval_queue(after=keyset_position(query.cursor, "payouts"), limit=query.limit + 1),
        query.limit, "payouts", lambda payout: (payout.created_at, payout.id))
    return PayoutQueue(items=[_payout(payout) for payout in found], next_cursor=cursor)


@bp.post("/admin/finance/payouts/<int:payout_id>/approve")
@operation(tags=[TAG], scope=SCOPE, model=AdminPayout, not_found=True, idempotent=True)
def payout_approve(payout_id: int):
    """Approve a payout

    It is sent to the provider; a payout not waiting for approval is a 409."""
    payout = payouts.approve_payout(g.api_grant.user, payouts.access_payout(payout_id), ip=client_ip())
    db.session.commit()
    return _payout(payout)


@bp.post("/admin/finance/payouts/<int:payout_id>/reject")
@operation(tags=[TAG], scope=SCOPE, json=PayoutRejection, model=AdminPayout, not_found=True, idempotent=True)
def payout_reject(payout_id: int, json: PayoutRejection):
    """Reject a payout

    The money goes back to the creator's balance and they are told why."""
    payout = payouts.reject_payout(g.api_grant.user, payouts.access_payout(payout_id), reason=json.reason,
                                   ip=client_ip())
    db.session.commit()
    return _payout(payout)


# --- disputes ----------------------------------------------------------------------------

class DisputeEntry(ApiModel):
    role: str = Field(description="`learner`, `creator`, `admin` or `system`")
    author: Person | None
    body: str
    created_at: Time


class AdminDispute(ApiModel):
    id: int
    order_id: int
    course_id: int
    course_title: str
    learner: Person | None
    creator: Person
    price: Amount
    refundable: Amount = Field(description="What a full refund would return now")
    source: str = Field(description="`learner` (ruled here) or `chargeback` (the bank decides)")
    reason: str
    reason_label: str
    status: str = Field(description="`open`, `ruled`, `won` or `lost`")
    ruling: str | None
    refund: Amount | None = Field(description="What the ruling refunded")
    created_at: Time
    closed_at: Time | None
    timeline: list[DisputeEntry]


class DisputeQueue(Page):
    items: list[AdminDispute]


class DisputeRuling(ApiModel):
    ruling: Literal[disputes.RULINGS] = Field(description="`full_refund`, `partial_refund` or `rejected`")
    decision: str = Field(description="The written decision; both sides see it")
    refund_minor: int | None = Field(None, description="For `partial_refund`: more than 0, less than "
                                                       "`refundable`, in minor units")


def _dispute(dispute) -> AdminDispute:
    order = dispute.order
    return AdminDispute(
        id=dispute.id, order_id=order.id, course_id=order.course_id, course_title=order.course.title,
        learner=person(order.buyer), creator=person(order.creator),
        price=Amount.of(order.price_minor, order.currency),
        refundable=Amount.of(order.refundable_minor, order.currency), source=dispute.source,
        reason=dispute.reason, reason_label=disputes.REASONS.get(dispute.reason, dispute.reason),
        status=dispute.status, ruling=dispute.ruling,
        refund=Amount.of(dispute.refund_minor, order.currency) if dispute.ruling else None,
        created_at=dispute.created_at, closed_at=dispute.closed_at,
        timeline=[DisputeEntry(role=message.role, author=person(message.author), body=message.body,
                               created_at=message.created_at) for message in dispute.messages])


@bp.get("/admin/finance/disputes")
@operation(tags=[TAG], scope=SCOPE, query=CursorQuery, model=DisputeQueue)
def dispute_list(query: CursorQuery):
    """Open disputes

    Learners' disputes and bank chargebacks still open, the oldest first."""
    found, cursor = keyset_page(
        disputes.dispute_queue(after=keyset_position(query.cursor, "disputes"), limit=query.limit + 1),
        query.limit, "disputes", lambda dispute: (dispute.created_at, dispute.id))
    return DisputeQueue(items=[_dispute(dispute) for dispute in found], next_cursor=cursor)


@bp.get("/admin/finance/disputes/<int:dispute_id>")
@operation(tags=[TAG], scope=SCOPE, model=AdminDispute, not_found=True)
def dispute_detail(dispute_id: int):
    """A dispute with its timeline"""
    return _dispute(disputes.access_dispute(g.api_grant.user, dispute_id))


@bp.post("/admin/finance/disputes/<int:dispute_id>/rule")
@operation(tags=[TAG], scope=SCOPE, json=DisputeRuling, model=AdminDispute, not_found=True, idempotent=True)
def dispute_rule(dispute_id: int, json: DisputeRuling):
    """Rule on a dispute

    Full refund, partial refund or reject, in writing; both sides are told. Only an open
    dispute a learner raised is ruled here (a chargeback is a 409); one you are a party to is a 403."""
    dispute = disputes.access_dispute(g.api_grant.user, dispute_id)
    disputes.rule_on_dispute(g.api_grant.user, dispute, ruling=json.ruling, decision=json.decision,
                             refund_minor=json.refund_minor, ip=client_ip())
    db.session.commit()
    return _dispute(dispute)
