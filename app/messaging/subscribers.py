"""Messaging's reactions to other domains' events (registered at app start)."""
from __future__ import annotations

from flask import current_app

from app.accounts.events import ApiTokenRevoked, SessionsRevoked, UserSignedUp, UserSuspended
from app.accounts.queries import get_user
from app.events import subscribe
from app.extensions import db
from app.messaging import bus, channels, connections, direct
from app.messaging.events import NotificationCreated
from app.messaging.models import Notification
from app.messaging.notifications import describe_anywhere, kind_label, notify, unread_count


@subscribe(UserSignedUp)
def welcome_new_user(event: UserSignedUp) -> None:
    user = get_user(event.user_id)
    if user is not None:
        notify(user, "welcome", name=user.display_name)


def notification_event(note: Notification, unread: int) -> dict:
    """What a live stream needs to show `note` without the database: the toast's label,
    sentence and link, and the unread count for the badge."""
    text, url = describe_anywhere(note)
    event = {"type": "notification", "id": note.id, "kind": note.kind, "label": kind_label(note.kind),
             "text": text, "url": url, "unread": unread,
             "created_at": note.created_at.isoformat() if note.created_at else None}
    if note.kind == "dm.received":  # the header's "Messages" badge changes on every page too
        event["dm_unread"] = direct.unread_total(get_user(note.user_id))
    event["html"] = toast_html(event)
    return event


def toast_html(event: dict) -> str:
    """The toast and badges for one notification, rendered ONCE where it is published and
    relayed as is to every open page of its user (rendering per stream costs ~50 µs each).
    The jinja environment directly: page context processors would query the database."""
    return current_app.jinja_env.get_template("notifications/_toast.html").render(
        note=event, unread_count=event.get("unread") or 0)


@subscribe(NotificationCreated)
def publish_notification(event: NotificationCreated) -> None:
    """Relay a stored (committed) notification to its user's open pages (ARCHITECTURE §5)."""
    note = db.session.get(Notification, event.notification_id)
    user = get_user(event.user_id)
    if note is None or user is None:  # deleted in the meantime: nothing to show
        return
    bus.publish_now(channels.user_notify(event.user_id), notification_event(note, unread_count(user)))


@subscribe(SessionsRevoked)
def close_revoked_sessions(event: SessionsRevoked) -> None:
    """Sockets and streams opened by revoked sessions close on every process (the contract
    with accounts: None means every session of the user)."""
    connections.end_sessions(event.user_id, event.session_ids)


@subscribe(ApiTokenRevoked)
def close_revoked_token(event: ApiTokenRevoked) -> None:
    """Streams and sockets opened with a revoked API token close on every process."""
    connections.end_tokens(event.user_id, [event.token_id])


@subscribe(UserSuspended)
def close_suspended_tokens(event: UserSuspended) -> None:
    """A suspended user's API tokens stop at once (accounts/api_tokens.py), and so does what
    was opened with them (their sessions' connections end by chat.end_suspended_sessions)."""
    connections.end_tokens(event.user_id, None)
