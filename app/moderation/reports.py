"""Users report what others wrote; moderators work through the queue (real-time issue)."""
from __future__ import annotations

import sqlalchemy as sa

from app.errors import Invalid
from app.extensions import db
from app.moderation.models import REPORT_TARGETS, Report
from app.policy import require


def report(actor, target_type: str, target_id: int, *, reason: str) -> Report:
    """Store a report once per reporter and target (reporting twice changes nothing)."""
    # Signed in and not suspended (Flask-Login's is_authenticated is False for suspended users).
    require(actor is not None and getattr(actor, "is_authenticated", False), "report content")
    if target_type not in REPORT_TARGETS:
        raise Invalid("That cannot be reported.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("Tell the moderators what is wrong.", field="reason")
    if len(reason) > 2000:
        raise Invalid("Keep the reason under 2,000 characters.", field="reason")
    existing = db.session.scalar(sa.select(Report).where(
        Report.reporter_id == actor.id, Report.target_type == target_type,
        Report.target_id == target_id))
    if existing is not None:
        return existing
    entry = Report(reporter_id=actor.id, target_type=target_type, target_id=target_id, reason=reason)
    db.session.add(entry)
    db.session.flush()
    return entry


def open_reports() -> list[Report]:
    return list(db.session.scalars(sa.select(Report).where(Report.status == "open")
                                   .order_by(Report.created_at)))
