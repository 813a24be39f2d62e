"""The names of every Redis pub/sub channel and presence key (ARCHITECTURE §5), in one place.

`CHANNEL_PREFIX` (default `lyceum`) lets two deployments, or two test runs, share one Redis.
"""
from __future__ import annotations

from app.extensions import redis_key


def course_chat(course_id: int) -> str:
    """New, edited and deleted messages, presence changes and cut-offs of one course's room."""
    return redis_key("chat", "course", course_id)


def user_dm(user_id: int) -> str:
    """Direct messages to a user and read receipts of the messages they sent."""
    return redis_key("dm", "user", user_id)


def user_notify(user_id: int) -> str:
    """A user's stored notifications, and "close your streams" when they are suspended."""
    return redis_key("notify", "user", user_id)


def room_presence(course_id: int) -> str:
    """Sorted set of `<user id>:<socket id>` scored by the socket's last heartbeat."""
    return redis_key("presence", "course", course_id)


def user_connections(user_id: int) -> str:
    """Sorted set of a user's open sockets and streams (`<opened ns>-<random>`), scored by
    when each expires unless its heartbeat renews it (app/messaging/connections.py)."""
    return redis_key("connections", "user", user_id)


def platform_analytics() -> str:
    """"The platform's figures changed" (no figures in it): finance admins' open streams
    subscribe to it (app/analytics/live.py publishes; the notification stream relays it)."""
    return redis_key("analytics", "platform")
