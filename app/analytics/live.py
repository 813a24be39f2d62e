"""Telling open dashboards that their figures changed (issue 17, part 4).

(To be written — the live helper owns this module.) The rollup subscribers call
`figures_changed(creator_id)` after they bump a row; it publishes once the bump commits.
"""
from __future__ import annotations


def figures_changed(creator_id: int | None) -> None:
    """The figures of `creator_id` (and the platform's) changed in the current transaction."""
