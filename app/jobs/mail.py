"""Mail delivery job (queue `low`)."""
from __future__ import annotations

from app.jobs import job_session
from app.messaging import mail


def deliver_mail(message: dict) -> None:
    with job_session():
        mail.deliver(message)
