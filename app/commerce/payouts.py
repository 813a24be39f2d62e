"""Payouts: a creator withdraws from `available`. The money moves to `payout_in_flight` at
once (under a lock, so two requests can never overdraw); a job pays it out through Stripe
Connect or PayPal with an idempotency key; success settles it, failure moves it back.
Above the admin-set threshold a payout waits for an admin's approval."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from rq import Retry

from app.accounts.emails import clean_email
from app.accounts.models import User
from app.commerce import ledger
from app.commerce.events import PayoutSettled
from app.commerce.gateways import LEDGER_PROVIDER, TransferResult
from app.commerce.gateways.paypal import paypal_payouts
from app.commerce.models import Payout, PayoutAccount
from app.commerce.payment_gateway import get_gateway
from app.commerce.settings import can_manage_finance, get_setting
from app.dbtypes import after_row, row_id, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.policy import require
from app.tasks import enqueue

PAYOUT_CURRENCY = "USD"  # creators' balances are withdrawn in this currency


def payout_account_of(user) -> PayoutAccount | None:
    return db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == user.id))


def _locked_account_of(actor) -> PayoutAccount | None:
    """The creator's payout account as committed, after taking the creator's row lock: two
    "connect" requests at once run one after the other, and the second updates the account the
    first made instead of inserting a second (a unique violation, a 500). SQLite's one writer at
    a time serialises them already."""
    db.session.execute(sa.select(User.id).where(User.id == actor.id).with_for_update())
    return db.session.scalar(sa.select(PayoutAccount).where(PayoutAccount.user_id == actor.id)
                             .execution_options(populate_existing=True))


def connect_stripe(actor, *, return_url: str, refresh_url: str) -> str:
    """Create (or reuse) the creator's Connect Express account; returns the onboarding URL."""
    require(getattr(actor, "is_authenticated", False) and not actor.is_suspended(), "set up payouts")
    gateway = get_gateway()
    account = _locked_account_of(actor)
    if account is None or account.provider != "stripe":
        if account is not None:
            db.session.delete(account)
            db.session.flush()
        account = PayoutAccount(user_id=actor.id, provider="stripe",
                                external_id=gateway.create_connect_account(actor), status="pending")
        db.session.add(account)
        db.session.flush()
    return gateway.onboarding_link(account.external_id, return_url=return_url, refresh_url=refresh_url)


def connect_paypal(actor, *, email: str) -> PayoutAccount:
    require(getattr(actor, "is_authenticated", False) and not actor.is_suspended(), "set up payouts")
    email = clean_email(email)
    account = _locked_account_of(actor)
    if account is None:
        account = PayoutAccount(user_id=actor.id, provider="paypal", external_id=email)
        db.session.add(account)
    account.provider, account.external_id, account.status, account.updated_at = "paypal", email, "active", utcnow()
    return account


def request_payout(actor, amount_minor: int, *, currency: str = PAYOUT_CURRENCY,
                   now: datetime | None = None) -> Payout:
    require(getattr(actor, "is_authenticated", False) and not actor.is_suspended(), "withdraw money")
    account = payout_account_of(actor)
    if account is None or account.status != "active":
        raise Conflict("Connect a Stripe or PayPal account (and finish its set-up) before withdrawing.")
    policy = get_setting("payouts")
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise Invalid("Enter a positive amount.", field="amount")
    if amount_minor < policy["minimum_minor"]:
        raise Invalid(f"The smallest withdrawal is {policy['minimum_minor'] / 100:.2f}.", field="amount")
    available_name = ledger.creator_account(actor.id, "available")
    ledger.lock_account(available_name, currency)  # two withdrawals at once: one waits for the other
    available = ledger.balance(available_name)
    if amount_minor > available:
        raise Invalid(f"You can withdraw at most {max(available, 0) / 100:.2f}.", field="amount")
    now = now or utcnow()
    needs_approval = amount_minor > policy["approval_threshold_minor"]
    payout = Payout(creator_id=actor.id, amount_minor=amount_minor, currency=currency,
                    provider=account.provider, destination=account.external_id,
                    status="awaiting_approval" if needs_approval else "queued", created_at=now)
    db.session.add(payout)
    db.session.flush()
    ledger.post(f"payout-request:{payout.id}", "payout_request", [
        (available_name, amount_minor),
        (ledger.creator_account(actor.id, "payout_in_flight"), -amount_minor),
    ], currency=currency, memo=f"Payout #{payout.id} requested", now=now)
    if not needs_approval:
        _enqueue(payout)
    return payout


def _enqueue(payout: Payout, retry_suffix: str = "") -> None:
    enqueue("app.jobs.payments.execute_payout", payout.id, queue="high", job_id=f"payout-{payout.id}{retry_suffix}",
            retry=Retry(max=5, interval=[30, 120, 600, 1800, 3600]))


def access_payout(payout_id: int) -> Payout:
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("No such payout.")
    return payout


def approve_payout(actor, payout: Payout, *, ip: str | None = None) -> Payout:
    require(can_manage_finance(actor), "approve payouts")
    if payout.status != "awaiting_approval":
        raise Conflict("This payout is not waiting for approval.")
    payout.status, payout.approved_by_id = "queued", actor.id
    record_audit(actor, "payout.approved", payout, after={"amount_minor": payout.amount_minor}, ip=ip)
    _enqueue(payout)
    return payout


def reject_payout(actor, payout: Payout, *, reason: str, ip: str | None = None) -> Payout:
    require(can_manage_finance(actor), "reject payouts")
    if payout.status != "awaiting_approval":
        raise Conflict("This payout is not waiting for approval.")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Tell the creator why.", field="reason")
    record_audit(actor, "payout.rejected", payout, after={"amount_minor": payout.amount_minor},
                 reason=reason, ip=ip)
    _return_funds(payout, status="rejected", reason=reason)
    return payout


def begin_payout(payout_id: int) -> None:
    """Mark a queued payout as being sent (committed before the provider is called)."""
    payout = db.session.get(Payout, payout_id, with_for_update=True)
    if payout is not None and payout.status == "queued":
        payout.status = "processing"


def send_payout(payout_id: int, *, now: datetime | None = None) -> None:
    """Call the provider (idempotency key `payout-<id>`), then settle or return the money.
    A retried job after a crash calls the provider again with the same key: paid once."""
    payout = db.session.get(Payout, payout_id, with_for_update=True)
    if payout is None or payout.status != "processing":
        return
    result = _transfer(payout)
    if not result.ok:
        _return_funds(payout, status="failed", reason=result.failure)
    elif result.pending:  # PayPal: the batch is accepted; its webhook (or the poll) settles it
        payout.external_id = result.external_id or payout.external_id
    else:
        settle_payout(payout, external_id=result.external_id, now=now)


def settle_payout(payout: Payout, *, external_id: str | None = None, now: datetime | None = None) -> None:
    if payout.status == "paid":
        return
    now = now or utcnow()
    ledger.post(f"payout-settled:{payout.id}", "payout_settled", [
        (ledger.creator_account(payout.creator_id, "payout_in_flight"), payout.amount_minor),
        (ledger.gateway_account(payout.provider if payout.provider == "paypal" else LEDGER_PROVIDER),
         -payout.amount_minor),
    ], currency=payout.currency, memo=f"Payout #{payout.id} sent", now=now)
    payout.status, payout.settled_at = "paid", now
    payout.external_id = external_id or payout.external_id
    emit(PayoutSettled(payout_id=payout.id))
    notify(payout.creator, "commerce.payout_sent", payout_id=payout.id, amount=payout.amount_minor,
           currency=payout.currency)


def fail_payout(payout: Payout, *, reason: str, now: datetime | None = None) -> None:
    """The provider gave up on a payout (still in flight, or returned after it was paid):
    the money is the creator's again, once."""
    if payout.status == "processing":
        _return_funds(payout, status="failed", reason=reason)
    elif payout.status == "paid":
        _reverse(payout, reason=reason, now=now)


def payout_for_item(sender_item_id: str | None) -> Payout | None:
    if not sender_item_id or not sender_item_id.startswith("payout-"):
        return None
    number = sender_item_id.removeprefix("payout-")
    payout_id = row_id(number) if number.isdigit() else None
    return db.session.get(Payout, payout_id) if payout_id else None


def poll_paypal_payouts() -> int:
    """The polling half of PayPal's status reporting (webhooks are the other half)."""
    client = paypal_payouts()
    if client is None:
        return 0
    waiting = list(db.session.scalars(sa.select(Payout).where(
        Payout.provider == "paypal", Payout.status == "processing", Payout.external_id.is_not(None))))
    for payout in waiting:
        status = client.batch_status(payout.external_id)
        if status == "SUCCESS":
            settle_payout(payout)
        elif status in ("DENIED", "CANCELED", "FAILED"):
            fail_payout(payout, reason=f"PayPal batch {status.lower()}")
    return len(waiting)


def _transfer(payout: Payout) -> TransferResult:
    if payout.provider == "paypal":
        client = paypal_payouts()
        if client is not None:
            return client.send(payout)
        if current_app.config.get("LYCEUM_ENV") == "production":  # no pretend payouts there
            return TransferResult(False, failure="PayPal payouts are not set up on this site.")
        return TransferResult(True, "paypal-local")  # the embedded default: succeeds at once
    return get_gateway().transfer(payout)


def _return_funds(payout: Payout, *, status: str, reason: str) -> None:
    ledger.post(f"payout-returned:{payout.id}", "payout_returned", [
        (ledger.creator_account(payout.creator_id, "payout_in_flight"), payout.amount_minor),
        (ledger.creator_account(payout.creator_id, "available"), -payout.amount_minor),
    ], currency=payout.currency, memo=f"Payout #{payout.id} {status}")
    payout.status, payout.failure_reason = status, (reason or "")[:2000]
    notify(payout.creator, "commerce.payout_failed", payout_id=payout.id, amount=payout.amount_minor,
           currency=payout.currency, reason=payout.failure_reason)


def reverse_paid_payout(transfer_id: str | None, *, now: datetime | None = None) -> None:
    """Stripe reversed a transfer we counted as paid: the money is the creator's again."""
    payout = db.session.scalar(sa.select(Payout).where(Payout.external_id == transfer_id))
    if payout is not None and payout.status == "paid":
        _reverse(payout, reason="reversed by the provider", now=now)


def _reverse(payout: Payout, *, reason: str, now: datetime | None = None) -> None:
    provider = payout.provider if payout.provider == "paypal" else LEDGER_PROVIDER
    ledger.post(f"payout-reversed:{payout.id}", "payout_reversed", [
        (ledger.gateway_account(provider), payout.amount_minor),
        (ledger.creator_account(payout.creator_id, "available"), -payout.amount_minor),
    ], currency=payout.currency, memo=f"Payout #{payout.id} came back: {reason}", now=now)
    payout.status, payout.failure_reason = "failed", reason
    notify(payout.creator, "commerce.payout_failed", payout_id=payout.id, amount=payout.amount_minor,
           currency=payout.currency, reason=reason)


def payouts_of(creator_id: int, *, after: tuple[datetime, int] | None = None,
               limit: int | None = None) -> list[Payout]:
    """The creator's payouts, newest first; `after`/`limit` give a page of them: those after
    the (created_at, id) of the last one seen."""
    query = (sa.select(Payout).where(Payout.creator_id == creator_id)
             .order_by(Payout.created_at.desc(), Payout.id.desc()))
    query = query.where(after_row(Payout.created_at, Payout.id, after))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def access_own_payout(actor, payout_id: int) -> Payout:
    """One of the actor's own payouts (anyone else's is "not found", revealing nothing)."""
    payout = db.session.get(Payout, payout_id)
    if payout is None or getattr(actor, "id", None) != payout.creator_id:
        raise NotFound("No such payout.")
    return payout


def approval_queue(*, after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[Payout]:
    """Payouts waiting for an admin, the oldest first; `after` (a payout's `(created_at, id)`)
    and `limit` give the queue a page at a time."""
    stmt = (sa.select(Payout).where(Payout.status == "awaiting_approval")
            .order_by(Payout.created_at, Payout.id).limit(limit))
    stmt = stmt.where(after_row(Payout.created_at, Payout.id, after, newest_first=False))
    return list(db.session.scalars(stmt))


def resume_stuck_payouts(*, now: datetime | None = None, older_than_seconds: int = 600) -> int:
    """Re-enqueue payouts a crashed worker left queued or half-sent. Safe: the job skips
    what is settled, and the provider call reuses the payout's idempotency key."""
    now = now or utcnow()
    stuck = list(db.session.scalars(sa.select(Payout).where(
        Payout.status.in_(("queued", "processing")),
        Payout.created_at <= now - timedelta(seconds=older_than_seconds))))
    for payout in stuck:
        _enqueue(payout, retry_suffix=f"-resume-{int(now.timestamp())}")
    return len(stuck)


WAITING_STATUSES = ("awaiting_approval", "queued", "processing")


def payout_counts() -> dict[str, int]:
    """Payouts waiting (for approval, for the job, for the provider) and failed (ever; the
    money went back to the creator), by status, 0 when none."""
    statuses = (*WAITING_STATUSES, "failed")
    counts = dict(db.session.execute(
        sa.select(Payout.status, sa.func.count()).where(Payout.status.in_(statuses))
        .group_by(Payout.status)).all())
    return {status: counts.get(status, 0) for status in statuses}
