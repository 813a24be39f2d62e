"""Money jobs (queue `high`): apply provider events, run payouts; periodic upkeep."""
from __future__ import annotations

from app.commerce import escrow, payouts, provider_events, webhooks
from app.jobs import job_session


def apply_payment_event(event_pk: int) -> None:
    try:
        with job_session():
            provider_events.apply_event(event_pk)
    except Exception as exc:  # recorded for the admin's failed-events list, then RQ retries
        with job_session():
            provider_events.record_failure(event_pk, repr(exc))
        raise


def execute_payout(payout_id: int) -> None:
    with job_session():
        payouts.begin_payout(payout_id)
    with job_session():
        payouts.send_payout(payout_id)


def money_upkeep() -> None:
    """Periodic: release escrow that is due, re-enqueue waiting events and stuck payouts."""
    with job_session():
        escrow.release_due()
    with job_session():
        webhooks.retry_waiting_events()
    with job_session():
        payouts.resume_stuck_payouts()
    with job_session():
        payouts.poll_paypal_payouts()


def reconcile_provider_events() -> None:
    """Daily: store provider events that never arrived."""
    with job_session():
        provider_events.reconcile_stripe()
