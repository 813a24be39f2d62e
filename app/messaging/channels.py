"""The names of every Redis pub/sub channel and presence key (ARCHITECTURE §5), in one place.

`CHANNEL_PREFIX` (default `lyceum`) lets two deployments, or two test runs, share one Redis.
"""
from __future__ import annotations

from flask import current_app


def _prefix() -> str:
    return current_app.config.get("CHANNEL_PREFIX", "lyceum")


def course_chat(course_id: int) -> str:
    """New, edited and deleted messages, presence changes and cut-offs of one course's room."""
    return f"{_prefix()}:chat:course:{course_id}"


def user_dm(user_id: int) -> str:
    """Direct messages to a user and read receipts of the messages they sent."""
    return f"{_prefix()}:dm:user:{user_id}"


def user_notify(user_id: int) -> str:
    """A user's stored notifications, and "close your streams" when they are suspended."""
    return f"{_prefix()}:notify:user:{user_id}"


def room_presence(course_id: int) -> str:
    """Sorted set of `<user id>:<socket id>` scored by the socket's last heartbeat."""
    return f"{_prefix()}:presence:course:{course_id}"
