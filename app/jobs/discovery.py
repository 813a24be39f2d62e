"""Periodic discovery jobs (queue `low`): trending scores, co-enrollment, search vocabulary."""
from __future__ import annotations

from app.discovery import ranking, search
from app.jobs import job_session


def refresh_discovery() -> None:
    with job_session():
        ranking.refresh_trending()
        ranking.refresh_affinity()
        search.refresh_search_terms()
