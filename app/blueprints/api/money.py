"""Buying: start a checkout, my orders with their receipts, refund requests and their state,
and the disputes on my purchases and sales, as the checkout pages offer them (the same
services: app/commerce/orders.py, refunds.py, disputes.py)."""
from __future__ import annotations

from typing import Literal
from urllib.parse import urljoin

from flask import current_app, g, request
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.keysets import keyset_page, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Amount, Person, Time
from app.catalog.queries import get_course
from app.commerce import disputes, orders, refunds
from app.commerce.models import Dispute, Order, Refund
from app.errors import NotFound
from app.extensions import db, limiter
from app.learning.queries import active_enrollment

TAG_ORDERS = "Orders"
TAG_DISPUTES = "Disputes"


# --- models --------------------------------------------------------------------------------

class CheckoutStart(ApiModel):
    course_id: int = Field(ge=1, le=2**31 - 1, description="The paid course to buy")
    source: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[a-z0-9._-]+$",
                               description="Where the buyer found the course (a site's domain or a "
                                           "campaign name), counted in the creator's traffic sources; "
                                           "none: direct")


class CheckoutStarted(ApiModel):
    order_id: int
    status: Literal["pending", "paid", "failed", "expired", "refunded"]
    price: Amount
    payment_url: str = Field(description="Send the buyer here to pay (the payment provider's page); "
                                         "then poll GET /api/v1/orders/{order_id}")


class PurchasedCourse(ApiModel):
    id: int
    slug: str
    title: str


class OrderSummary(ApiModel):
    id: int = Field(description="Also the receipt number")
    status: Literal["pending", "paid", "failed", "expired", "refunded"]
    course: PurchasedCourse
    price: Amount = Field(description="What was paid")
    refunded: Amount = Field(description="What was given back so far")
    created_at: Time
    paid_at: Time | None


class OrderList(Page):
    items: list[OrderSummary]


class RefundState(ApiModel):
    id: int
    order_id: int
    status: Literal["requested", "approved", "succeeded", "rejected", "failed"] = Field(
        description="requested: an admin decides; approved: sent to the payment provider; "
                    "succeeded: the money is back")
    amount: Amount
    automatic: bool = Field(description="Approved at once under the refund rule")
    reason: str
    decision_note: str = Field(description="Why it was approved at once, or the admin's note")
    created_at: Time
    settled_at: Time | None


class DisputeLink(ApiModel):
    id: int
    status: Literal["open", "ruled", "won", "lost"]


class RefundOffer(ApiModel):
    automatic: bool = Field(description="True: a refund asked for now is approved at once; "
                                        "false: an admin decides")
    why: str


class OrderReceipt(OrderSummary):
    enrolled: bool = Field(description="The course is yours (the payment went through)")
    refund: RefundState | None = Field(description="The latest refund of this order")
    dispute: DisputeLink | None = Field(description="The latest dispute of this order")
    refund_offer: RefundOffer | None = Field(
        description="Set when a refund can be asked for now (POST …/refund), with what would happen")
    refund_rule: str = Field(description="The automatic-refund rule in words")


class RefundRequest(ApiModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why you want your money back")


DisputeStatus = Literal["open", "ruled", "won", "lost"]


class DisputeSummary(ApiModel):
    id: int
    order_id: int
    course: PurchasedCourse
    role: Literal["learner", "creator"] = Field(description="You bought (learner) or sold (creator)")
    source: Literal["learner", "chargeback"] = Field(description="Opened by the learner or by their bank")
    status: DisputeStatus
    reason: str = Field(description="The reason's key (`not_as_described`, `quality`, …)")
    reason_label: str
    ruling: Literal["full_refund", "partial_refund", "rejected"] | None
    refund: Amount | None = Field(description="What the ruling refunded")
    created_at: Time
    closed_at: Time | None


class DisputeList(Page):
    items: list[DisputeSummary]


class DisputeTimelineEntry(ApiModel):
    role: Literal["learner", "creator", "admin", "system"]
    author: Person | None
    body: str
    created_at: Time


class DisputeDetail(DisputeSummary):
    price: Amount = Field(description="The order's price")
    decision: str = Field(description="The admin's written decision, once ruled")
    messages: list[DisputeTimelineEntry]


# --- checkout ------------------------------------------------------------------------------

@bp.post("/checkouts")
@limiter.limit(lambda: current_app.config["RATELIMIT_CHECKOUT"])  # the checkout page's limit
@operation(tags=[TAG_ORDERS], scope="learn", json=CheckoutStart, model=CheckoutStarted, ok=201,
           idempotent=True, not_found=True, conflict=True)
def checkout_start(json: CheckoutStart):
    """Start buying a course

    The checkout page's Buy button: an order (a pending one for the same course and price is
    reused) and the payment page to send the buyer to. Paying enrols them; poll the order.
    Limited like the page (`RATELIMIT_CHECKOUT`, per address)."""
    order, url = orders.start_checkout(g.api_grant.user, get_course(json.course_id), traffic_source=json.source)
    db.session.commit()
    return CheckoutStarted(order_id=order.id, status=order.status, price=Amount.of(order.price_minor, order.currency),
                           payment_url=urljoin(request.host_url, url)), 201


# --- orders --------------------------------------------------------------------------------

@bp.get("/orders")
@operation(tags=[TAG_ORDERS], scope="read", query=CursorQuery, model=OrderList)
def order_list(query: CursorQuery):
    """My purchases

    What "My purchases" lists: paid and refunded orders, newest first."""
    found = orders.purchases_of(g.api_grant.user, after=position_after(query, "orders"), limit=query.limit + 1)
    page, cursor = keyset_page(found, query.limit, "orders", lambda order: (order.paid_at, order.id))
    return OrderList(items=[OrderSummary(**_order_fields(order)) for order in page], next_cursor=cursor)


@bp.get("/orders/<int:order_id>")
@operation(tags=[TAG_ORDERS], scope="read", model=OrderReceipt, not_found=True)
def order_detail(order_id: int):
    """One of my orders, with its receipt

    Any of my orders, pending ones too (poll it after a checkout): the receipt, whether the
    course is mine, its refund and dispute, and whether a refund can be asked for now."""
    user = g.api_grant.user
    order = orders.access_order(user, order_id)
    refund = refunds.refunds_by_order([order.id]).get(order.id)
    dispute = disputes.disputes_by_order([order.id]).get(order.id)
    offer = None
    if refunds.refund_blocker(order) is None:
        automatic, why = refunds.refund_eligibility(order)
        offer = RefundOffer(automatic=automatic, why=why)
    return OrderReceipt(**_order_fields(order), enrolled=active_enrollment(user, order.course) is not None,
                        refund=_refund(refund) if refund else None,
                        dispute=DisputeLink(id=dispute.id, status=dispute.status) if dispute else None,
                        refund_offer=offer, refund_rule=refunds.refund_rule())


# --- refunds -------------------------------------------------------------------------------

@bp.post("/orders/<int:order_id>/refund")
@operation(tags=[TAG_ORDERS], scope="learn", json=RefundRequest, model=RefundState, ok=201,
           idempotent=True, not_found=True, conflict=True)
def order_refund(order_id: int, json: RefundRequest):
    """Ask for a refund

    The refund form of "My purchases", under the same rule: inside the refund window and the
    consumption limit it is approved at once, otherwise an admin decides (409 when a refund
    or a dispute is already open, or the order is not paid)."""
    user = g.api_grant.user
    refund = refunds.request_refund(user, orders.access_order(user, order_id), reason=json.reason)
    db.session.commit()
    db.session.refresh(refund)  # an automatic refund may be settled already
    return _refund(refund), 201


@bp.get("/refunds/<int:refund_id>")
@operation(tags=[TAG_ORDERS], scope="read", model=RefundState, not_found=True)
def refund_detail(refund_id: int):
    """A refund of mine

    Where a refund I asked for stands."""
    return _refund(refunds.access_refund(g.api_grant.user, refund_id))


# --- disputes ------------------------------------------------------------------------------

@bp.get("/disputes")
@operation(tags=[TAG_DISPUTES], scope="read", query=CursorQuery, model=DisputeList)
def dispute_list(query: CursorQuery):
    """Disputes on my purchases and my sales

    Newest first; `role` says which side I am on."""
    user = g.api_grant.user
    position = decode_cursor(query.cursor, kind="disputes")
    found = disputes.disputes_of(user, before_id=position["id"] if position else None, limit=query.limit + 1)
    page = found[:query.limit]
    more = len(found) > query.limit
    return DisputeList(items=[DisputeSummary(**_dispute_fields(user, dispute)) for dispute in page],
                       next_cursor=encode_cursor({"kind": "disputes", "id": page[-1].id}) if more else None)


@bp.get("/disputes/<int:dispute_id>")
@operation(tags=[TAG_DISPUTES], scope="read", model=DisputeDetail, not_found=True)
def dispute_detail(dispute_id: int):
    """A dispute with its timeline

    What the dispute page shows the learner and the creator: its state, the ruling and every
    message."""
    user = g.api_grant.user
    dispute = disputes.access_dispute(user, dispute_id)
    if disputes.role_in(user, dispute) not in ("learner", "creator"):
        # Finance admins read every dispute on the admin pages; this is the parties' view.
        raise NotFound("No such dispute.")
    order = dispute.order
    return DisputeDetail(
        **_dispute_fields(user, dispute), price=Amount.of(order.price_minor, order.currency),
        decision=dispute.decision,
        messages=[DisputeTimelineEntry(role=m.role, body=m.body, created_at=m.created_at,
                                       author=_person(m.author) if m.author else None)
                  for m in dispute.messages])


# --- shaping -------------------------------------------------------------------------------

def _course(course) -> PurchasedCourse:
    return PurchasedCourse(id=course.id, slug=course.slug, title=course.title)


def _order_fields(order: Order) -> dict:
    return {"id": order.id, "status": order.status, "course": _course(order.course),
            "price": Amount.of(order.price_minor, order.currency),
            "refunded": Amount.of(order.refunded_minor, order.currency),
            "created_at": order.created_at, "paid_at": order.paid_at}


def _refund(refund: Refund) -> RefundState:
    return RefundState(id=refund.id, order_id=refund.order_id, status=refund.status,
                       amount=Amount.of(refund.amount_minor, refund.order.currency), automatic=refund.automatic,
                       reason=refund.reason, decision_note=refund.decision_note,
                       created_at=refund.created_at, settled_at=refund.settled_at)


def _person(user) -> Person:
    return Person(id=user.id, display_name=user.display_name, headline=user.headline)


def _dispute_fields(user, dispute: Dispute) -> dict:
    order = dispute.order
    return {"id": dispute.id, "order_id": order.id, "course": _course(order.course),
            "role": "learner" if user.id == order.buyer_id else "creator", "source": dispute.source,
            "status": dispute.status, "reason": dispute.reason,
            "reason_label": disputes.REASONS.get(dispute.reason, dispute.reason), "ruling": dispute.ruling,
            "refund": Amount.of(dispute.refund_minor, order.currency) if dispute.ruling else None,
            "created_at": dispute.created_at, "closed_at": dispute.closed_at}
