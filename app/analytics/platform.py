"""The platform's day for admins: people, the review queue, moderation, disputes, payouts.

(Issue 17, part 2: to be written — the admin helper owns this module.)
"""
from __future__ import annotations

from datetime import date


def rebuild(start: date, end: date) -> None:
    """Recompute PlatformDay (and review-decision durations) for start..end."""
