"""Admin finance (permission `manage_finance`): figures per period, commission and money
policies, transactions, payout approvals, refund and dispute queues, failed events."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_login import current_user

from app.analytics.finance import PERIODS, sales_by_period
from app.blueprints.admin import bp
from app.blueprints.htmx import client_ip, page_arg, render_page
from app.catalog.queries import get_course
from app.commerce import disputes, payouts, refunds, settings, webhooks
from app.commerce.models import Dispute, LedgerAccount, LedgerEntry, LedgerTransaction, Refund
from app.errors import Invalid, NotFound
from app.extensions import db
from app.money import parse_amount
from app.policy import require


@bp.before_request
def finance_needs_permission():
    if request.endpoint and request.endpoint.startswith("admin.finance") \
            and current_user.is_authenticated:  # visitors are sent to log in first
        require(settings.can_manage_finance(current_user), "manage finance")


def overview(status: int = 200, **extra):
    period = request.args.get("period", "month")
    ctx = {"period": period if period in PERIODS else "month", "periods": PERIODS,
           "figures": sales_by_period(period), "rate": settings.commission_rate_at(),
           "history": settings.commission_history(),
           "policies": {key: settings.get_setting(key) for key in settings.DEFAULTS},
           "escrow_modes": settings.ESCROW_MODES, "errors": {}, "typed": {}, **extra}
    return render_page("admin/finance.html", "finance", status=status, **ctx)


@bp.get("/finance")
def finance_overview():
    return overview()


@bp.post("/finance/commission")
def finance_commission():
    form = request.form
    try:
        effective = None
        if form.get("effective_on"):
            try:
                effective = settings.effective_from(datetime.strptime(form["effective_on"], "%Y-%m-%d").date())
            except ValueError:
                raise Invalid("Enter the date as YYYY-MM-DD.", field="effective_on") from None
        settings.set_commission_rate(current_user, form.get("rate_bps", ""), reason=form.get("reason", ""),
                                     effective_at=effective, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return overview(422, errors={"commission": exc.message}, typed=dict(form))
    flash("Commission rate saved.", "success")
    return redirect(url_for("admin.finance_overview"))


@bp.post("/finance/settings/<key>")
def finance_setting(key: str):
    if key not in settings.DEFAULTS:
        raise NotFound("No such setting.")
    try:
        # Only the policy's own fields: not the CSRF token or anything else posted with them.
        value = {field: request.form[field] for field in settings.DEFAULTS[key] if field in request.form}
        settings.set_setting(current_user, key, value, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return overview(422, errors={key: exc.message}, typed=dict(request.form))
    flash("Setting saved.", "success")
    return redirect(url_for("admin.finance_overview"))


@bp.post("/finance/courses/<int:course_id>/commission")
def finance_course_commission(course_id: int):
    course = get_course(course_id)
    settings.set_course_commission(current_user, course, request.form.get("rate_bps", ""),
                                   reason=request.form.get("reason", ""), ip=client_ip())
    db.session.commit()
    flash(f"Commission for “{course.title}” saved.", "success")
    return redirect(url_for("admin.finance_overview"))


@bp.get("/finance/transactions")
def finance_transactions():
    kind, account = request.args.get("kind", "")[:30], request.args.get("account", "")[:120]
    stmt = sa.select(LedgerTransaction).order_by(LedgerTransaction.id.desc())
    if kind:
        stmt = stmt.where(LedgerTransaction.kind == kind)
    if account:
        stmt = stmt.where(LedgerTransaction.id.in_(
            sa.select(LedgerEntry.transaction_id).join(LedgerAccount).where(LedgerAccount.name == account)))
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    kinds = list(db.session.scalars(sa.select(LedgerTransaction.kind).distinct().order_by(LedgerTransaction.kind)))
    return render_page("admin/finance_transactions.html", "results", page=page, kind=kind,
                       account=account, kinds=kinds)


@bp.get("/finance/queues")
def finance_queues():
    return render_page("admin/finance_queues.html", "queues", payouts=payouts.approval_queue(),
                       refunds=refunds.refund_queue(), disputes=disputes.dispute_queue(),
                       events=webhooks.failed_events())


@bp.get("/finance/disputes")
def finance_disputes():
    return redirect(url_for("admin.finance_queues") + "#disputes")


@bp.post("/finance/payouts/<int:payout_id>/approve")
def finance_payout_approve(payout_id: int):
    payouts.approve_payout(current_user, payouts.access_payout(payout_id), ip=client_ip())
    db.session.commit()
    flash("Payout approved and queued.", "success")
    return redirect(url_for("admin.finance_queues"))


@bp.post("/finance/payouts/<int:payout_id>/reject")
def finance_payout_reject(payout_id: int):
    try:
        payouts.reject_payout(current_user, payouts.access_payout(payout_id),
                              reason=request.form.get("reason", ""), ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.finance_queues"))
    flash("Payout rejected; the money is back in the creator's balance.", "success")
    return redirect(url_for("admin.finance_queues"))


@bp.post("/finance/refunds/<int:refund_id>")
def finance_refund_decide(refund_id: int):
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound("No such refund request.")
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):  # a missing choice must not reject the refund
        raise Invalid("Choose approve or reject.", field="decision")
    refunds.decide_refund(current_user, refund, approve=decision == "approve",
                          note=request.form.get("note", ""), ip=client_ip())
    db.session.commit()
    flash("Refund decided.", "success")
    return redirect(url_for("admin.finance_queues"))


@bp.post("/finance/disputes/<int:dispute_id>/rule")
def finance_dispute_rule(dispute_id: int):
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("No such dispute.")
    form = request.form
    try:
        amount = parse_amount(form["amount"], field="amount") if form.get("amount") else None
        disputes.rule_on_dispute(current_user, dispute, ruling=form.get("ruling", ""),
                                 decision=form.get("decision", ""), refund_minor=amount, ip=client_ip())
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("checkout.dispute_detail", dispute_id=dispute.id))
    flash("Ruling recorded; both sides are told.", "success")
    return redirect(url_for("checkout.dispute_detail", dispute_id=dispute.id))


@bp.post("/finance/events/<int:event_id>/retry")
def finance_event_retry(event_id: int):
    webhooks.retry_event(current_user, event_id)
    db.session.commit()
    flash("Event queued again.", "success")
    return redirect(url_for("admin.finance_queues") + "#events")
