"""A creator's money, as the studio's earnings page shows it: the balances, the sales with
their commission and state, the payout account, withdrawals and their status; and the
price → commission → creator share split at the platform's rate (the same services:
app/analytics/finance.py, app/commerce/orders.py, payouts.py, commission.py)."""
from __future__ import annotations

from typing import Literal

from flask import current_app, g, url_for
from pydantic import Field

from app.analytics.finance import creator_earnings
from app.blueprints.api import bp
from app.blueprints.api.keysets import keyset_page, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.problems import problem
from app.blueprints.api.schemas import Amount, Time
from app.catalog import courses
from app.commerce import orders, payouts
from app.commerce.commission import global_rate_bps, split_price
from app.commerce.models import Order, Payout, PayoutAccount
from app.extensions import db

TAG_EARNINGS = "Earnings"
TAG_PAYOUTS = "Payouts"
PayoutStatus = Literal["awaiting_approval", "queued", "processing", "paid", "failed", "rejected"]


# --- models --------------------------------------------------------------------------------

class EarningsFigures(ApiModel):
    available: Amount = Field(description="Ready to withdraw")
    in_escrow: Amount = Field(description="Released on completion or after the escrow period")
    in_flight: Amount = Field(description="Payouts being sent")
    paid_out: Amount = Field(description="All time")


class SoldCourse(ApiModel):
    id: int
    slug: str
    title: str


class Sale(ApiModel):
    order_id: int
    paid_at: Time
    course: SoldCourse
    price: Amount
    commission_rate_bps: int = Field(description="The platform's rate on this sale, in basis points (1500 is 15%)")
    commission: Amount
    creator_share: Amount = Field(description="What you receive")
    refunded: Amount
    state: Literal["in_escrow", "available", "frozen", "refunded"] = Field(
        description="Where the sale's money stands for you; `frozen`: an open dispute holds it")
    state_text: str = Field(description="The state in words, as the studio shows it")


class SaleList(Page):
    items: list[Sale]


class PayoutAccountInfo(ApiModel):
    provider: Literal["stripe", "paypal"]
    destination: str = Field(description="The Stripe account id or the PayPal e-mail address")
    status: Literal["pending", "active", "restricted"] = Field(
        description="Withdrawals need `active` (a Stripe account is active once its set-up is finished)")
    updated_at: Time


class PayoutAccountList(ApiModel):
    items: list[PayoutAccountInfo] = Field(description="None, or the one account payouts go to")


class StripeOnboarding(ApiModel):
    onboarding_url: str = Field(description="Send the creator here to finish the Stripe set-up")
    account: PayoutAccountInfo


class PayPalAccount(ApiModel):
    email: str = Field(min_length=1, max_length=254, description="Where PayPal pays you")


class PayoutInfo(ApiModel):
    id: int
    amount: Amount
    provider: Literal["stripe", "paypal"]
    status: PayoutStatus = Field(description="awaiting_approval (above the admin-set threshold), queued, "
                                             "processing, paid, failed or rejected (the money is yours again)")
    failure_reason: str
    created_at: Time
    settled_at: Time | None


class PayoutList(Page):
    items: list[PayoutInfo]


class Withdrawal(ApiModel):
    amount_minor: int = Field(ge=1, le=10_000_000_000, description="In minor units: 2500 is 25.00")
    currency: str = Field(min_length=3, max_length=3, description=f"Payouts are in {payouts.PAYOUT_CURRENCY}")


class CommissionSplitQuery(ApiModel):
    price_minor: int = Field(ge=0, le=10_000_000_000, description="The price, in minor units")


class PriceSplit(ApiModel):
    price: Amount = Field(description="What learners pay")
    commission_rate_bps: int
    commission: Amount = Field(description="The platform's commission")
    creator_share: Amount = Field(description="What you receive")


# --- earnings ------------------------------------------------------------------------------

@bp.get("/earnings")
@operation(tags=[TAG_EARNINGS], scope="read", model=EarningsFigures)
def earnings_figures():
    """My balances

    The earnings page's four figures."""
    figures = creator_earnings(g.api_grant.user.id)
    currency = payouts.PAYOUT_CURRENCY
    return EarningsFigures(available=Amount.of(figures["available"], currency),
                           in_escrow=Amount.of(figures["escrow"], currency),
                           in_flight=Amount.of(figures["payout_in_flight"], currency),
                           paid_out=Amount.of(figures["paid_out"], currency))


@bp.get("/earnings/sales")
@operation(tags=[TAG_EARNINGS], scope="read", query=CursorQuery, model=SaleList)
def sale_list(query: CursorQuery):
    """My sales

    Every sale, newest first, with its commission, my share and where its money stands."""
    found = orders.sales_of(g.api_grant.user.id, after=position_after(query, "sales"), limit=query.limit + 1)
    page, cursor = keyset_page(found, query.limit, "sales", lambda order: (order.paid_at, order.id))
    return SaleList(items=[_sale(order) for order in page], next_cursor=cursor)


# --- payout accounts -----------------------------------------------------------------------

@bp.get("/payout-accounts")
@operation(tags=[TAG_PAYOUTS], scope="read", model=PayoutAccountList)
def payout_account_list():
    """Where my payouts go

    The one payout account (Stripe or PayPal), or none yet."""
    account = payouts.payout_account_of(g.api_grant.user)
    return PayoutAccountList(items=[_account(account)] if account else [])


@bp.post("/payout-accounts/stripe")
@operation(tags=[TAG_PAYOUTS], scope="sell", model=StripeOnboarding)
def payout_connect_stripe():
    """Connect Stripe

    Creates (or reuses) a Stripe Connect account and gives the set-up page to send the
    creator to; it comes back to the studio's earnings page. Replaces a PayPal account."""
    user = g.api_grant.user
    back = url_for("studio.earnings", _external=True)
    url = payouts.connect_stripe(user, return_url=back, refresh_url=back)
    db.session.commit()
    return StripeOnboarding(onboarding_url=url, account=_account(payouts.payout_account_of(user)))


@bp.post("/payout-accounts/paypal")
@operation(tags=[TAG_PAYOUTS], scope="sell", json=PayPalAccount, model=PayoutAccountInfo)
def payout_connect_paypal(json: PayPalAccount):
    """Use PayPal

    Payouts go to this PayPal address from now on (replacing a Stripe account)."""
    account = payouts.connect_paypal(g.api_grant.user, email=json.email)
    db.session.commit()
    return _account(account)


# --- payouts -------------------------------------------------------------------------------

@bp.get("/payouts")
@operation(tags=[TAG_PAYOUTS], scope="read", query=CursorQuery, model=PayoutList)
def payout_list(query: CursorQuery):
    """My payouts

    Every withdrawal, newest first, with its status."""
    found = payouts.payouts_of(g.api_grant.user.id, after=position_after(query, "payouts"), limit=query.limit + 1)
    page, cursor = keyset_page(found, query.limit, "payouts", lambda payout: (payout.created_at, payout.id))
    return PayoutList(items=[_payout(payout) for payout in page], next_cursor=cursor)


@bp.get("/payouts/<int:payout_id>")
@operation(tags=[TAG_PAYOUTS], scope="read", model=PayoutInfo, not_found=True)
def payout_detail(payout_id: int):
    """One of my payouts"""
    return _payout(payouts.access_own_payout(g.api_grant.user, payout_id))


@bp.post("/payouts")
@operation(tags=[TAG_PAYOUTS], scope="sell", json=Withdrawal, model=PayoutInfo, ok=201,
           idempotent=True, conflict=True)
def payout_request(json: Withdrawal):
    """Withdraw

    The earnings page's Withdraw: the amount leaves `available` at once and is sent to the
    payout account (above the admin-set threshold it waits for an admin's approval first).
    422 for an amount under the minimum or over what is available; 409 without an active
    payout account."""
    if json.currency != payouts.PAYOUT_CURRENCY:
        raise problem(422, f"Payouts are in {payouts.PAYOUT_CURRENCY}.")
    payout = payouts.request_payout(g.api_grant.user, json.amount_minor, currency=json.currency)
    db.session.commit()
    return _payout(payout), 201


# --- the split -----------------------------------------------------------------------------

@bp.get("/commission/split")
@operation(tags=[TAG_EARNINGS], scope="read", query=CommissionSplitQuery, model=PriceSplit)
def price_split(query: CommissionSplitQuery):
    """What a price leaves me

    The split the course editor shows beside a price: the price, the platform's commission
    at its current rate and your share, in the currency of new courses. The price must be one
    a course may have (0 for free, or between the minimum and maximum). For one of your
    courses, at its own rate: GET /api/v1/studio/courses/{course_id}/split."""
    split = split_price(courses.clean_price(query.price_minor), global_rate_bps())
    currency = current_app.config["DEFAULT_CURRENCY"]
    return PriceSplit(price=Amount.of(split.price, currency), commission_rate_bps=split.rate_bps,
                      commission=Amount.of(split.commission, currency),
                      creator_share=Amount.of(split.creator_share, currency))


# --- shaping -------------------------------------------------------------------------------

def _sale(order: Order) -> Sale:
    return Sale(order_id=order.id, paid_at=order.paid_at,
                course=SoldCourse(id=order.course.id, slug=order.course.slug, title=order.course.title),
                price=Amount.of(order.price_minor, order.currency), commission_rate_bps=order.commission_bps,
                commission=Amount.of(order.commission_minor, order.currency),
                creator_share=Amount.of(order.creator_share_minor, order.currency),
                refunded=Amount.of(order.refunded_minor, order.currency),
                state=orders.sale_state(order).value, state_text=orders.sale_state_text(order))


def _account(account: PayoutAccount) -> PayoutAccountInfo:
    return PayoutAccountInfo(provider=account.provider, destination=account.external_id, status=account.status,
                             updated_at=account.updated_at)


def _payout(payout: Payout) -> PayoutInfo:
    return PayoutInfo(id=payout.id, amount=Amount.of(payout.amount_minor, payout.currency),
                      provider=payout.provider, status=payout.status, failure_reason=payout.failure_reason,
                      created_at=payout.created_at, settled_at=payout.settled_at)
