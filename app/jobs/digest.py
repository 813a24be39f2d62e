"""The daily e-mail digest of notifications (queue `low`)."""
from __future__ import annotations

from datetime import datetime

from app.dbtypes import utcnow
from app.jobs import job_session
from app.messaging import preferences


def send_digests(now: datetime | None = None) -> int:
    """Send one e-mail per user with notifications of kinds they opted into; one transaction
    per user, so a failure for one user neither stops nor repeats the others. Returns how
    many e-mails were queued."""
    now = now or utcnow()
    sent = 0
    with job_session():
        for user_id in preferences.digest_user_ids(now=now):
            with job_session():
                if preferences.send_digest(user_id, now=now):
                    sent += 1
    return sent
