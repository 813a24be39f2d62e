"""The creator's money: balances, sales with commission, payouts, CSV export, withdrawals."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from app.analytics.finance import creator_earnings
from app.blueprints.htmx import render_page
from app.blueprints.studio import bp
from app.commerce import orders, payouts
from app.errors import Conflict, Invalid
from app.extensions import db
from app.money import parse_amount


def earnings_page(status: int = 200, **extra):
    ctx = {"figures": creator_earnings(current_user.id), "sales": orders.sales_of(current_user.id),
           "sale_state_text": orders.sale_state_text,
           "payouts": payouts.payouts_of(current_user.id),
           "account": payouts.payout_account_of(current_user), "errors": {}, "typed": {}, **extra}
    return render_page("studio/earnings.html", "earnings", status=status, **ctx)


@bp.get("/earnings")
def earnings():
    return earnings_page()


def _decimal(minor: int) -> str:
    """Minor units as a plain decimal ('29.99'), without going through a float."""
    return str(Decimal(minor).scaleb(-2).quantize(Decimal("0.01")))


@bp.get("/earnings.csv")
def earnings_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["order", "paid_at", "course", "price", "commission_rate_bps", "commission",
                     "your_share", "refunded", "currency", "status", "escrow_released_at", "state"])
    for order in orders.sales_of(current_user.id):
        writer.writerow([order.id, order.paid_at.isoformat(), order.course.title,
                         _decimal(order.price_minor), order.commission_bps,
                         _decimal(order.commission_minor), _decimal(order.creator_share_minor),
                         _decimal(order.refunded_minor), order.currency, order.status,
                         order.escrow_released_at.isoformat() if order.escrow_released_at else "",
                         orders.sale_state(order).label])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="lyceum-sales.csv"'})


@bp.post("/earnings/connect/stripe")
def payout_connect_stripe():
    url = payouts.connect_stripe(current_user, return_url=url_for("studio.earnings", _external=True),
                                 refresh_url=url_for("studio.earnings", _external=True))
    db.session.commit()
    return redirect(url, code=303)


@bp.post("/earnings/connect/paypal")
def payout_connect_paypal():
    email = request.form.get("email", "")
    try:
        payouts.connect_paypal(current_user, email=email)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return earnings_page(422, errors={"paypal": exc.message}, typed={"email": email})
    flash("PayPal is connected for payouts.", "success")
    return redirect(url_for("studio.earnings"))


@bp.post("/earnings/withdraw")
def payout_request():
    raw = request.form.get("amount", "")
    try:
        if not raw.strip():  # parse_amount's own message is about course prices ("or 0 for free")
            raise Invalid("Enter the amount to withdraw.", field="amount")
        payout = payouts.request_payout(current_user, parse_amount(raw, field="amount"))
        db.session.commit()
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        return earnings_page(exc.status, errors={"amount": exc.message}, typed={"amount": raw})
    flash("Your payout is waiting for an admin's approval." if payout.status == "awaiting_approval"
          else "Your payout is on its way.", "success")
    return redirect(url_for("studio.earnings"))
