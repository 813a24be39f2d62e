"""Buying: the checkout page, the local test gateway's pay page, success/cancel, my purchases,
refund requests and disputes."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from app.blueprints.checkout import bp
from app.blueprints.htmx import render_page, wants_fragment
from app.blueprints.traffic import checkout_source
from app.catalog.queries import get_course
from app.commerce import disputes, orders, refunds
from app.commerce.commission import rate_for_course, split_price
from app.commerce.models import Order
from app.commerce.payment_gateway import get_gateway
from app.errors import Invalid
from app.extensions import db, limiter
from app.learning.queries import active_enrollment


@bp.before_request
@login_required
def signed_in_only():
    """Buying needs an account."""


@bp.get("/courses/<int:course_id>")
def checkout_page(course_id: int):
    course = get_course(course_id)
    orders.check_buyable(current_user, course)
    return render_page("checkout/checkout.html", "checkout", course=course,
                       split=split_price(course.price_minor, rate_for_course(course)),
                       refund_rule=refunds.refund_rule())


@bp.post("/courses/<int:course_id>")
@limiter.limit(lambda: current_app.config["RATELIMIT_CHECKOUT"])
def checkout_start(course_id: int):
    course = get_course(course_id)
    order, url = orders.start_checkout(current_user, course, traffic_source=checkout_source())
    db.session.commit()
    return redirect(url, code=303)


# --- the local test gateway (the embedded default's stand-in for Stripe Checkout) ------------

def _local_order(session_id: str) -> Order:
    if get_gateway().name != "local":
        abort(404)
    order = db.session.scalar(sa.select(Order).where(Order.checkout_session_id == session_id))
    if order is None or order.buyer_id != current_user.id:
        abort(404)
    return order


@bp.get("/local/<session_id>")
def local_pay_page(session_id: str):
    return render_page("checkout/local_pay.html", "pay", order=_local_order(session_id))


@bp.post("/local/<session_id>")
def local_pay(session_id: str):
    order = _local_order(session_id)
    if order.status != "pending":
        return redirect(url_for("checkout.order_success", order_id=order.id))
    gateway = get_gateway()
    if request.form.get("action") != "decline":
        # An older checkout left open (e.g. from before a price change) must not sell the
        # course a second time to someone who has bought it since, nor an unpublished one.
        orders.check_buyable(current_user, order.course)
    if request.form.get("action") == "decline":
        gateway.decline(order)
        db.session.commit()
        return redirect(url_for("checkout.order_cancel", order_id=order.id))
    gateway.pay(order)
    db.session.commit()
    return redirect(url_for("checkout.order_success", order_id=order.id))


# --- after paying ------------------------------------------------------------------------------

@bp.get("/orders/<int:order_id>/success")
def order_success(order_id: int):
    """Shows the enrollment as soon as the webhook has landed: htmx polls the status block
    (and stops with 286 once paid); without JavaScript, the Refresh link does the same."""
    order = orders.access_order(current_user, order_id)
    db.session.refresh(order)
    resp = render_page("checkout/success.html", "order_status", order=order,
                       enrolled=active_enrollment(current_user, order.course) is not None)
    if wants_fragment() and order.status != "pending":
        resp.status_code = 286  # htmx: stop polling
    return resp


@bp.get("/orders/<int:order_id>/cancel")
def order_cancel(order_id: int):
    order = orders.access_order(current_user, order_id)
    return render_page("checkout/cancel.html", "cancel", order=order)


@bp.get("/purchases")
def purchase_list():
    mine = orders.purchases_of(current_user)
    ids = [o.id for o in mine]
    return render_page("checkout/purchases.html", "purchases", purchases=mine,
                       refunds=refunds.refunds_by_order(ids), disputes=disputes.disputes_by_order(ids),
                       # the refund (and dispute) forms are offered where a refund can be asked for
                       eligibility={o.id: refunds.refund_eligibility(o) for o in mine
                                    if refunds.refund_blocker(o) is None},
                       refund_rule=refunds.refund_rule(),
                       reasons=disputes.REASONS, errors={})


@bp.post("/orders/<int:order_id>/refund")
def order_refund(order_id: int):
    order = orders.access_order(current_user, order_id)
    try:
        refund = refunds.request_refund(current_user, order, reason=request.form.get("reason", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("checkout.purchase_list") + f"#order-{order.id}")
    flash("Your refund is on its way." if refund.automatic else
          "Your refund request is with our team; we will tell you the decision.", "success")
    return redirect(url_for("checkout.purchase_list"))


@bp.post("/orders/<int:order_id>/dispute")
def order_dispute(order_id: int):
    order = orders.access_order(current_user, order_id)
    try:
        dispute = disputes.open_dispute(current_user, order, reason=request.form.get("reason", ""),
                                        message=request.form.get("message", ""))
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("checkout.purchase_list") + f"#order-{order.id}")
    return redirect(url_for("checkout.dispute_detail", dispute_id=dispute.id))


@bp.get("/disputes/<int:dispute_id>")
def dispute_detail(dispute_id: int):
    dispute = disputes.access_dispute(current_user, dispute_id)
    return render_page("checkout/dispute.html", "timeline", dispute=dispute,
                       role=disputes.role_in(current_user, dispute), reasons=disputes.REASONS,
                       rulings=disputes.RULINGS, errors={}, typed={})


@bp.post("/disputes/<int:dispute_id>/messages")
def dispute_message(dispute_id: int):
    dispute = disputes.access_dispute(current_user, dispute_id)
    body = request.form.get("body", "")
    try:
        disputes.post_message(current_user, dispute, body=body)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        return render_page("checkout/dispute.html", "timeline", status=422, dispute=dispute,
                           role=disputes.role_in(current_user, dispute), reasons=disputes.REASONS,
                           rulings=disputes.RULINGS, errors={"body": exc.message}, typed={"body": body})
    return redirect(url_for("checkout.dispute_detail", dispute_id=dispute.id) + "#timeline")
