"""Ending sessions nobody came back to (queue `low`, every 10 minutes)."""
from __future__ import annotations

from datetime import datetime

from app.accounts import sessions
from app.dbtypes import utcnow
from app.jobs import job_session


def end_expired_sessions(now: datetime | None = None) -> int:
    """Past their idle timeout or lifetime: the row goes and open connections close (the
    loader ends the others when their cookie next shows up). Returns how many ended."""
    with job_session():
        return sessions.end_expired_sessions(now=now or utcnow())
