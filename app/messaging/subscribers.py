"""Messaging's reactions to other domains' events (registered at app start)."""
from __future__ import annotations

from app.accounts.queries import get_user
from app.events import subscribe
from app.messaging.notifications import notify


@subscribe("accounts.user.signed_up")
def welcome_new_user(user_id: int) -> None:
    user = get_user(user_id)
    if user is not None:
        notify(user, "welcome", name=user.display_name)
