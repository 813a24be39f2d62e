"""Pure moderation rules."""
from __future__ import annotations


def can_moderate(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) \
        and actor.has_permission("moderate")
