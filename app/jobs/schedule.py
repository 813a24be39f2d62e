"""What runs periodically, and how often (RQ's cron scheduler: `python worker.py --cron`)."""
from __future__ import annotations

from app.jobs.discovery import refresh_discovery

# (function, queue, interval in seconds)
PERIODIC = (
    (refresh_discovery, "low", 15 * 60),
)
