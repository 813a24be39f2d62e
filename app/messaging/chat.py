"""Course chat rooms: who may read and post, and the messages (the room's moderators' mutes,
bans and slow mode are chat_moderation.py's; posting enforces them here).

Members are the course's active learners (not banned), its creator and the platform's
moderators (`permissions.can_join_room`). Every service re-reads membership from the
database, so a refunded, suspended, banned or muted user is refused on their next message.

Messages are stored first and then published on the room's channel
(`channels.course_chat`) after commit; each event carries everything a socket needs to
render the message without the database (`message_event`).

Mentions: `@` followed by a member's display name written without spaces or punctuation,
in any case — "Lena Learner" is `@LenaLearner`, `@lena-learner` or `@lena.learner`. Each
mentioned member (not the author) is notified once per message ("chat.mention").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.events import UserSuspended
from app.accounts.models import User
from app.catalog.models import Course
from app.dbtypes import utcnow
from app.errors import NotFound, TooFast
from app.events import subscribe
from app.extensions import db
from app.formatting import format_datetime
from app.learning.events import EnrollmentRevoked
from app.learning.models import Enrollment
from app.learning.queries import is_enrolled
from app.messaging import bus, channels
from app.messaging.models import ChatMessage, ChatRoom, ChatSanction
from app.messaging.notifications import notify
from app.messaging.permissions import (
    can_delete_chat_message,
    can_edit_chat_message,
    can_join_room,
    can_moderate_room,
    can_post_in_room,
)
from app.messaging.text import check_flood, clean_message, message_html
from app.moderation.audit import record_audit
from app.policy import require

PAGE_SIZE = 50
AFTER_LIMIT = 500
MENTION_LIMIT = 10  # members notified by one message at most
MENTION_RE = re.compile(r"(?<![\w@])@([\w][\w.\-]{0,79})")


# --- membership --------------------------------------------------------------------------

@dataclass(frozen=True)
class Membership:
    enrolled: bool
    banned: ChatSanction | None
    muted: ChatSanction | None


def active_sanction(user_id: int, course_id: int, kind: str, *,
                    now: datetime | None = None) -> ChatSanction | None:
    """The user's sanction of `kind` in the room that is in force (not lifted, not over)."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(ChatSanction).where(
            ChatSanction.course_id == course_id, ChatSanction.user_id == user_id,
            ChatSanction.kind == kind, ChatSanction.lifted_at.is_(None),
            sa.or_(ChatSanction.until.is_(None), ChatSanction.until > now))
        .order_by(ChatSanction.until.is_(None).desc(), ChatSanction.until.desc()).limit(1))


def membership(actor, course: Course, *, now: datetime | None = None) -> Membership:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Membership(False, None, None)
    return Membership(is_enrolled(actor, course),
                      active_sanction(actor.id, course.id, "ban", now=now),
                      active_sanction(actor.id, course.id, "mute", now=now))


def may_join(actor, course: Course, *, now: datetime | None = None) -> bool:
    facts = membership(actor, course, now=now)
    return can_join_room(actor, course, enrolled=facts.enrolled, banned=facts.banned is not None)


def require_member(actor, course: Course, *, now: datetime | None = None) -> Membership:
    facts = membership(actor, course, now=now)
    if facts.banned is not None and not can_moderate_room(actor, course):
        until = f" until {format_datetime(facts.banned.until)}" if facts.banned.until else ""
        require(False, f"join this room (you are banned from it{until})")
    require(can_join_room(actor, course, enrolled=facts.enrolled, banned=facts.banned is not None),
            "join this room: it is for the course's learners and its creator")
    return facts


def get_room_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("No such course.")
    return course


def access_room(actor, course_id: int) -> Course:
    """The course whose room `actor` may join (NotFound / NotAllowed otherwise)."""
    course = get_room_course(course_id)
    require_member(actor, course)
    return course


def room_settings(course_id: int) -> ChatRoom:
    """The room's settings row, or the defaults (not added to the session) if it has none."""
    return db.session.get(ChatRoom, course_id) or ChatRoom(course_id=course_id, slow_mode_seconds=0)


# --- reading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryPage:
    messages: list[ChatMessage]  # oldest first
    has_earlier: bool

    @property
    def first_id(self) -> int | None:
        return self.messages[0].id if self.messages else None

    @property
    def last_id(self) -> int | None:
        return self.messages[-1].id if self.messages else None


def history(actor, course: Course, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """The newest `limit` messages (before `before_id`, for "load earlier"), oldest first."""
    require_member(actor, course)
    limit = max(1, min(limit, AFTER_LIMIT))
    stmt = (sa.select(ChatMessage).where(ChatMessage.course_id == course.id)
            .options(selectinload(ChatMessage.author))
            .order_by(ChatMessage.id.desc()).limit(limit + 1))
    if before_id is not None:
        stmt = stmt.where(ChatMessage.id < before_id)
    rows = list(db.session.scalars(stmt))
    return HistoryPage(list(reversed(rows[:limit])), len(rows) > limit)


def messages_after(actor, course: Course, after_id: int, limit: int = AFTER_LIMIT) -> list[ChatMessage]:
    """What a reconnecting client missed: the messages after `after_id`, oldest first."""
    require_member(actor, course)
    return list(db.session.scalars(
        sa.select(ChatMessage).where(ChatMessage.course_id == course.id, ChatMessage.id > after_id)
        .options(selectinload(ChatMessage.author))
        .order_by(ChatMessage.id).limit(max(1, min(limit, AFTER_LIMIT)))))


def access_message(actor, course: Course, message_id: int) -> ChatMessage:
    """A message of this room that `actor` may see (a forged or foreign id is a 404)."""
    require_member(actor, course)
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.course_id != course.id:
        raise NotFound("No such message in this room.")
    return message


# --- the live event of a message -------------------------------------------------------------

def message_version(message: ChatMessage) -> str:
    """Changes whenever what the message shows changes (cache key for rendered fragments)."""
    return "|".join(value.isoformat() if value else "" for value in (message.edited_at, message.deleted_at))


def message_event(message: ChatMessage, kind: str, course: Course | None = None) -> dict:
    """Everything a socket needs to render `message` without touching the database."""
    course = course or db.session.get(Course, message.course_id)
    author = message.author
    deleted = message.deleted_at is not None
    return {"type": f"chat.message.{kind}", "id": message.id, "course_id": message.course_id,
            "version": message_version(message),
            "author_id": message.author_id,
            "author_name": author.display_name if author else "Deleted user",
            "author_is_creator": bool(course and message.author_id == course.creator_id),
            "body": "" if deleted else message.body,
            "body_html": "" if deleted else str(message_html(message.body)),
            "created_at": message.created_at.isoformat(),
            "edited": message.edited_at is not None, "deleted": deleted}


def _publish_message(message: ChatMessage, kind: str, course: Course) -> None:
    bus.publish(channels.course_chat(course.id), message_event(message, kind, course))


# --- writing --------------------------------------------------------------------------------

def mention_handle(name: str) -> str:
    """How a display name is written after `@`: letters and digits only, lower case."""
    return re.sub(r"[\W_]+", "", name or "").lower()


def mentioned_members(course: Course, body: str, *, exclude_id: int | None = None) -> list[User]:
    handles = {mention_handle(raw) for raw in MENTION_RE.findall(body)} - {""}
    if not handles:
        return []
    member_ids = sa.select(Enrollment.learner_id).where(Enrollment.course_id == course.id,
                                                        Enrollment.revoked_at.is_(None))
    candidates = db.session.scalars(sa.select(User).where(
        sa.or_(User.id.in_(member_ids), User.id == course.creator_id)).order_by(User.id))
    found: list[User] = []
    for user in candidates:
        if user.id != exclude_id and mention_handle(user.display_name) in handles \
                and active_sanction(user.id, course.id, "ban") is None:
            found.append(user)
            if len(found) >= MENTION_LIMIT:
                break
    return found


def _check_slow_mode(actor, course: Course, now: datetime) -> None:
    seconds = room_settings(course.id).slow_mode_seconds or 0
    if seconds <= 0 or can_moderate_room(actor, course):
        return
    last = db.session.scalar(sa.select(ChatMessage.created_at).where(
        ChatMessage.course_id == course.id, ChatMessage.author_id == actor.id)
        .order_by(ChatMessage.created_at.desc()).limit(1))
    if last is None:
        return
    wait = (last + timedelta(seconds=seconds) - now).total_seconds()
    if wait > 0:
        wait = int(wait) + (1 if wait % 1 else 0)
        raise TooFast(f"Slow mode is on: one message every {seconds} s. Wait {wait} s and try again.",
                      field="body", retry_after=wait)


def post_message(actor, course: Course, body: str, *, now: datetime | None = None) -> ChatMessage:
    now = now or utcnow()
    facts = require_member(actor, course, now=now)
    if facts.muted is not None and not can_moderate_room(actor, course):
        until = f" until {format_datetime(facts.muted.until)}" if facts.muted.until else ""
        require(False, f"post in this room (you are muted{until})")
    require(can_post_in_room(actor, course, enrolled=facts.enrolled, banned=facts.banned is not None,
                             muted=facts.muted is not None), "post in this room")
    body = clean_message(body)
    _check_slow_mode(actor, course, now)
    check_flood(actor.id, "chat")
    message = ChatMessage(course_id=course.id, author_id=actor.id, body=body, created_at=now)
    message.author = actor
    db.session.add(message)
    db.session.flush()
    preview = body if len(body) <= 120 else body[:119] + "…"
    for user in mentioned_members(course, body, exclude_id=actor.id):
        notify(user, "chat.mention", author=actor.display_name, title=course.title,
               preview=preview, course_id=course.id)
    _publish_message(message, "created", course)
    return message


def edit_message(actor, message_id: int, body: str, *, now: datetime | None = None) -> ChatMessage:
    """The author rewrites their message (it shows "edited" to everyone, live)."""
    message = db.session.get(ChatMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    course = get_room_course(message.course_id)
    require_member(actor, course)
    require(can_edit_chat_message(actor, message), "edit this message")
    body = clean_message(body)
    if body != message.body:
        message.body, message.edited_at = body, now or utcnow()
        db.session.flush()
        _publish_message(message, "edited", course)
    return message


def delete_message(actor, message_id: int, *, reason: str = "", now: datetime | None = None) -> ChatMessage:
    """The author, or a moderator of the room, deletes a message (it stays as "deleted").
    A moderator's deletion of someone else's message is audited."""
    message = db.session.get(ChatMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    course = get_room_course(message.course_id)
    require(can_delete_chat_message(actor, message, course), "delete this message")
    message.deleted_at, message.deleted_by_id = now or utcnow(), actor.id
    if message.author_id != actor.id:
        record_audit(actor, "chat.message.deleted", message, reason=(reason or "").strip(),
                     before={"course_id": course.id, "author_id": message.author_id, "body": message.body})
    db.session.flush()
    _publish_message(message, "deleted", course)
    return message


# --- cut-offs: other domains' events ----------------------------------------------------------

@subscribe(EnrollmentRevoked)
def cut_off_revoked_learner(event: EnrollmentRevoked) -> None:
    """A refunded (or revoked) learner's room sockets close at once."""
    enrollment = db.session.get(Enrollment, event.enrollment_id)
    if enrollment is not None:
        bus.publish(channels.course_chat(enrollment.course_id),
                    {"type": "member.removed", "user_id": enrollment.learner_id})


@subscribe(UserSuspended)
def end_suspended_sessions(event: UserSuspended) -> None:
    """Every socket and stream of a suspended user ends (they listen on user_notify)."""
    bus.publish(channels.user_notify(event.user_id), {"type": "session.end"})
