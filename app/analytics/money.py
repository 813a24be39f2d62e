"""Sales, commission, refunds and the creator's net, booked into CourseDay from the ledger.

(Issue 17, part 1 and 6: to be written — the money helper owns this module.)
"""
from __future__ import annotations

from datetime import date


def rebuild(start: date, end: date) -> None:
    """Recompute the money columns of CourseDay for the days start..end from the ledger."""
