"""Pure messaging rules."""
from __future__ import annotations


def can_read_notification(actor, notification) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) \
        and notification.user_id == actor.id
