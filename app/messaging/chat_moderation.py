"""A course chat room's moderation: mutes and bans (sanctions) and slow mode.

The course's creator may mute in their own room; bans, lifting them and slow mode are for
the platform's moderators (`permissions`). Every change is audited and published on the
room's channel: a ban closes the user's sockets, a muted user is told, slow mode shows on
the page. Posting enforces them (chat.py reads the sanctions in force and the room's
settings).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog.models import Course
from app.dbtypes import utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from app.formatting import format_datetime
from app.messaging import bus, channels
from app.messaging.chat import get_room_course
from app.messaging.models import CHAT_SANCTIONS, ChatRoom, ChatSanction
from app.messaging.notifications import notify
from app.messaging.permissions import can_ban_from_room, can_moderate_room
from app.moderation.audit import record_audit
from app.policy import require

MAX_SANCTION_MINUTES = 366 * 24 * 60
MAX_SLOW_MODE_SECONDS = 3600


def active_sanctions(actor, course: Course, *, now: datetime | None = None) -> list[ChatSanction]:
    """Mutes and bans in force in the room, for its moderators."""
    require(can_moderate_room(actor, course), "see this room's restrictions")
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(ChatSanction).where(
            ChatSanction.course_id == course.id, ChatSanction.lifted_at.is_(None),
            sa.or_(ChatSanction.until.is_(None), ChatSanction.until > now))
        .options(selectinload(ChatSanction.user))
        .order_by(ChatSanction.created_at.desc(), ChatSanction.id.desc())))


def _minutes(minutes: int | str | None, *, required: bool) -> int | None:
    if minutes in (None, ""):
        if required:
            raise Invalid("Say for how many minutes.", field="minutes")
        return None
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        raise Invalid("Give the length in whole minutes.", field="minutes") from None
    if not 1 <= value <= MAX_SANCTION_MINUTES:
        raise Invalid(f"Give between 1 and {MAX_SANCTION_MINUTES:,} minutes.", field="minutes")
    return value


def sanction_user(actor, course: Course, user: User, *, kind: str, minutes: int | None, reason: str,
                  now: datetime | None = None) -> ChatSanction:
    """Mute (may read, may not post; for `minutes`) or ban (may not join; for `minutes`, or
    for good with None) `user` in the course's room. The course's creator may mute in their
    own room; bans are for moderators. Audited; the user is told; a ban cuts their sockets."""
    if kind not in CHAT_SANCTIONS:
        raise Invalid("Choose mute or ban.", field="kind")
    if kind == "ban":
        require(can_ban_from_room(actor), "ban people from chat rooms")
    else:
        require(can_moderate_room(actor, course), "mute people in this room")
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor.id or can_moderate_room(user, course):
        raise Invalid("The course's creator and moderators cannot be muted or banned.")
    minutes = _minutes(minutes, required=kind == "mute")
    reason = " ".join((reason or "").split())
    if len(reason) > 500:
        raise Invalid("Keep the reason under 500 characters.", field="reason")
    now = now or utcnow()
    until = now + timedelta(minutes=minutes) if minutes else None
    for old in db.session.scalars(sa.select(ChatSanction).where(  # the new one replaces them
            ChatSanction.course_id == course.id, ChatSanction.user_id == user.id,
            ChatSanction.kind == kind, ChatSanction.lifted_at.is_(None))):
        old.lifted_at = now
    sanction = ChatSanction(course_id=course.id, user_id=user.id, kind=kind, reason=reason, until=until,
                            created_by_id=actor.id, created_at=now)
    db.session.add(sanction)
    db.session.flush()
    record_audit(actor, f"chat.user.{'muted' if kind == 'mute' else 'banned'}", user, reason=reason,
                 after={"course_id": course.id, "sanction_id": sanction.id,
                        "until": until.isoformat() if until else None})
    notify(user, "chat.sanctioned", what="muted" if kind == "mute" else "banned", title=course.title,
           until=format_datetime(until) if until else None, reason=reason, course_id=course.id)
    bus.publish(channels.course_chat(course.id),
                {"type": "chat.user.sanctioned", "user_id": user.id, "kind": kind,
                 "until": until.isoformat() if until else None})
    return sanction


def lift_sanction(actor, sanction_id: int, *, now: datetime | None = None) -> ChatSanction:
    sanction = db.session.get(ChatSanction, sanction_id)
    if sanction is None:
        raise NotFound("No such restriction.")
    course = get_room_course(sanction.course_id)
    if sanction.kind == "ban":
        require(can_ban_from_room(actor), "lift bans")
    else:
        require(can_moderate_room(actor, course), "lift mutes in this room")
    if sanction.lifted_at is None:
        sanction.lifted_at = now or utcnow()
        record_audit(actor, f"chat.user.{'unmuted' if sanction.kind == 'mute' else 'unbanned'}",
                     sanction.user, after={"course_id": course.id, "sanction_id": sanction.id})
        bus.publish(channels.course_chat(course.id),
                    {"type": "chat.user.unsanctioned", "user_id": sanction.user_id, "kind": sanction.kind})
    return sanction


def set_slow_mode(actor, course: Course, seconds: int | str) -> ChatRoom:
    """One message per `seconds` per member (0 turns it off); moderators are exempt."""
    require(can_ban_from_room(actor), "set slow mode")
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        raise Invalid("Give the interval in whole seconds.", field="seconds") from None
    if not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
        raise Invalid(f"Give between 0 and {MAX_SLOW_MODE_SECONDS:,} seconds.", field="seconds")
    room = db.session.get(ChatRoom, course.id)
    before = room.slow_mode_seconds if room else 0
    if room is None:
        room = ChatRoom(course_id=course.id)
        db.session.add(room)
    room.slow_mode_seconds, room.updated_by_id = seconds, actor.id
    db.session.flush()
    record_audit(actor, "chat.room.slow_mode", course, before={"slow_mode_seconds": before},
                 after={"slow_mode_seconds": seconds})
    bus.publish(channels.course_chat(course.id), {"type": "chat.room.updated", "slow_mode_seconds": seconds})
    return room
