"""Analytics upkeep (queue `low`): move the page views counted in Redis into the rollups (every
minute), and rebuild the last closed days' rollups from the source tables (nightly)."""
from __future__ import annotations

from datetime import timedelta

from app.analytics import live, rebuild, traffic
from app.dbtypes import utcnow
from app.jobs import job_session

REBUILD_DAYS = 2  # yesterday and the day before: anything a lost event missed is put right


def rebuild_recent_days() -> None:
    """Nightly: recompute the rollups of the last REBUILD_DAYS closed days."""
    yesterday = utcnow().date() - timedelta(days=1)
    with job_session():
        rebuild.rebuild(yesterday - timedelta(days=REBUILD_DAYS - 1), yesterday)
    live.everything_changed()  # committed: no cached figure of those days may stay


def flush_page_views() -> None:
    """Every minute: add the course page views counted in Redis to CourseDay and SourceDay.
    The counts leave Redis only once the booking committed; a second flush running at the
    same time does nothing (app/analytics/traffic.py says why nothing is lost or doubled)."""
    with traffic.page_view_flush(utcnow().date()) as flush:
        if flush is not None:
            with job_session():
                traffic.book_page_views(flush)
