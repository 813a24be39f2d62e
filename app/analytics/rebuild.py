"""Recomputing the rollups of closed days from the source tables.

Each rollup module rebuilds its own columns (page views cannot be recomputed: nothing else
records them, so a rebuild keeps them). Run nightly for the last days by the scheduler, and by
hand with `flask analytics-rebuild --from 2026-01-01 --to 2026-01-31` after a fix. Rebuild only
closed days: today's rows are still being counted by the subscribers.
"""
from __future__ import annotations

from datetime import date

from app.analytics import learners, money, platform, traffic


def rebuild(start: date, end: date) -> None:
    """Every rollup for the days start..end (both included), in the caller's transaction."""
    for part in (money, learners, traffic, platform):
        part.rebuild(start, end)
