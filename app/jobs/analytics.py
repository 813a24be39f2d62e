"""Analytics upkeep (queue `low`): rebuild the last closed days' rollups from the source tables."""
from __future__ import annotations

from datetime import timedelta

from app.analytics import rebuild
from app.dbtypes import utcnow
from app.jobs import job_session

REBUILD_DAYS = 2  # yesterday and the day before: anything a lost event missed is put right


def rebuild_recent_days() -> None:
    """Nightly: recompute the rollups of the last REBUILD_DAYS closed days."""
    yesterday = utcnow().date() - timedelta(days=1)
    with job_session():
        rebuild.rebuild(yesterday - timedelta(days=REBUILD_DAYS - 1), yesterday)
