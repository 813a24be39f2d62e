"""Course page views, checkouts started and where visitors and buyers came from.

(Issue 17, part 1: to be written — the traffic helper owns this module.)
"""
from __future__ import annotations

from datetime import date


def rebuild(start: date, end: date) -> None:
    """Recompute checkouts and sales per source for start..end (page views are kept)."""
