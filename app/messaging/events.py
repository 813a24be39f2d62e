"""The facts of messaging that its own live delivery reacts to (ARCHITECTURE §11)."""
from __future__ import annotations

from dataclasses import dataclass

from app.events import Event


@dataclass(frozen=True)
class NotificationCreated(Event, name="messaging.notification.created"):
    """A notification row is stored (and committed) for `user_id`."""

    notification_id: int
    user_id: int
