"""The facts about moderation that other domains react to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass

from app.events import Event


@dataclass(frozen=True)
class ReportOpened(Event, name="moderation.report.opened"):
    """A user reported something another user wrote (a new report; reporting twice is not)."""

    report_id: int


@dataclass(frozen=True)
class ReportClosed(Event, name="moderation.report.closed"):
    """A moderator's decision closed a report (resolved or dismissed)."""

    report_id: int
