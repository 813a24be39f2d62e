"""What runs periodically, and how often (RQ's cron scheduler: `python worker.py --cron`)."""
from __future__ import annotations

from app.jobs.analytics import flush_page_views, rebuild_recent_days
from app.jobs.digest import send_digests
from app.jobs.discovery import refresh_discovery
from app.jobs.payments import money_upkeep, reconcile_provider_events
from app.jobs.sessions import end_expired_sessions

# (function, queue, interval in seconds)
PERIODIC = (
    (money_upkeep, "high", 60),
    (refresh_discovery, "low", 15 * 60),
    (end_expired_sessions, "low", 10 * 60),
    (reconcile_provider_events, "low", 24 * 3600),
    (send_digests, "low", 24 * 3600),
    (rebuild_recent_days, "low", 24 * 3600),
    (flush_page_views, "low", 60),
)
