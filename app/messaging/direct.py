"""Direct messages between two users (issue #7, item 3).

A conversation is stored once per pair (lower user id first). Messages are stored, then
published after commit on both users' DM channels (`channels.user_dm`): the recipient's
streams show it, the sender's other tabs too. Each event carries what a relay needs to
render it without the database (`DMView.from_event`). Read state is per message
(`read_at`); reading a conversation sends the sender a receipt (`dm.read`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from app.accounts.models import User
from app.dbtypes import after_row, utcnow
from app.errors import Invalid, NotAllowed, NotFound
from app.extensions import db
from app.messaging import channels
from app.messaging.bus import publish
from app.messaging.models import Conversation, DirectMessage, UserBlock
from app.messaging.notifications import notify
from app.messaging.permissions import can_block_user, can_message_user, can_read_conversation
from app.messaging.text import check_flood, clean_message
from app.moderation.audit import record_audit
from app.moderation.permissions import can_moderate
from app.policy import require

PREVIEW_CHARS = 80
HISTORY_PAGE = 50
BACKLOG_LIMIT = 500  # a stream resuming after a long absence reloads the page instead

SENT, READ, DELETED = "dm.sent", "dm.read", "dm.deleted"
READ_BY_ME = "dm.read_by_me"  # the actor's own other tabs: unread counts changed


def preview(body: str) -> str:
    return " ".join(body.split())[:PREVIEW_CHARS]


@dataclass(frozen=True)
class DMView:
    """What a message template needs, from a row or from a bus event (no database)."""

    id: int
    conversation_id: int
    sender_id: int | None
    sender_name: str
    recipient_id: int | None
    body: str
    created_at: datetime
    read: bool = False
    deleted: bool = False

    @classmethod
    def from_row(cls, msg: DirectMessage, sender_name: str) -> DMView:
        return cls(id=msg.id, conversation_id=msg.conversation_id, sender_id=msg.sender_id,
                   sender_name=sender_name, recipient_id=msg.recipient_id,
                   body="" if msg.deleted_at else msg.body, created_at=msg.created_at,
                   read=msg.read_at is not None, deleted=msg.deleted_at is not None)

    @classmethod
    def from_event(cls, event: dict) -> DMView:
        return cls(id=int(event["id"]), conversation_id=int(event["conversation_id"]),
                   sender_id=event.get("sender_id"), sender_name=event.get("sender_name", ""),
                   recipient_id=event.get("recipient_id"), body=event.get("body", ""),
                   created_at=datetime.fromisoformat(event["created_at"]),
                   read=bool(event.get("read")), deleted=bool(event.get("deleted")))

    def to_event(self, kind: str) -> dict:
        return {"type": kind, "id": self.id, "conversation_id": self.conversation_id,
                "sender_id": self.sender_id, "sender_name": self.sender_name,
                "recipient_id": self.recipient_id, "body": self.body,
                "created_at": self.created_at.isoformat(), "read": self.read, "deleted": self.deleted}


# --- blocks ------------------------------------------------------------------------------

def is_blocked_between(a, b) -> bool:
    """Has either user blocked the other?"""
    if a is None or b is None:
        return False
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserBlock).where(sa.or_(
        sa.and_(UserBlock.blocker_id == a.id, UserBlock.blocked_id == b.id),
        sa.and_(UserBlock.blocker_id == b.id, UserBlock.blocked_id == a.id)))) > 0


def has_blocked(actor, target) -> bool:
    """Did `actor` block `target` (so `actor` may unblock)?"""
    if actor is None or target is None or not getattr(actor, "is_authenticated", False):
        return False
    return db.session.get(UserBlock, (actor.id, target.id)) is not None


def block(actor, target) -> UserBlock:
    require(can_block_user(actor, target), "block this user")
    found = db.session.get(UserBlock, (actor.id, target.id))
    if found is not None:
        return found
    entry = UserBlock(blocker_id=actor.id, blocked_id=target.id)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:  # blocked twice at once: the other request's row stands
        entry = db.session.get(UserBlock, (actor.id, target.id))
    return entry


def unblock(actor, target) -> bool:
    """Lift `actor`'s block of `target`; True if there was one."""
    require(can_block_user(actor, target), "unblock this user")
    result = db.session.execute(sa.delete(UserBlock).where(UserBlock.blocker_id == actor.id,
                                                           UserBlock.blocked_id == target.id))
    return bool(result.rowcount)


def require_can_message(actor, recipient) -> None:
    """The one rule (`can_message_user`), with the reason spelled out when it says no."""
    blocked = is_blocked_between(actor, recipient)
    if can_message_user(actor, recipient, blocked=blocked):
        return
    if recipient is None:
        raise NotFound("No such user.")
    if getattr(actor, "id", None) == recipient.id:
        raise Invalid("You cannot send messages to yourself.", field="to")
    if blocked:
        raise NotAllowed("message this user: one of you has blocked the other")
    if recipient.is_suspended():
        raise NotAllowed("message this user: their account is suspended")
    raise NotAllowed("send messages")


# --- conversations -------------------------------------------------------------------------

def _find(low_id: int, high_id: int) -> Conversation | None:
    return db.session.scalar(sa.select(Conversation).where(Conversation.user_low_id == low_id,
                                                           Conversation.user_high_id == high_id))


def conversation_with(actor, other_user) -> Conversation:
    """The conversation between `actor` and `other_user`, made on first use."""
    require_can_message(actor, other_user)
    low, high = sorted((actor.id, other_user.id))
    found = _find(low, high)
    if found is not None:
        return found
    conversation = Conversation(user_low_id=low, user_high_id=high)
    try:
        with db.session.begin_nested():
            db.session.add(conversation)
    except IntegrityError:  # both started it at once: use the one that won
        conversation = _find(low, high)
    return conversation


def access_conversation(actor, conversation_id: int) -> Conversation:
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    require(can_read_conversation(actor, conversation), "read this conversation")
    return conversation


def _names(conversation: Conversation) -> dict[int, str]:
    return {conversation.user_low_id: conversation.user_low.display_name,
            conversation.user_high_id: conversation.user_high.display_name}


def send_direct_message(actor, conversation: Conversation, body: str, *, now: datetime | None = None) -> DirectMessage:
    require(can_read_conversation(actor, conversation), "write in this conversation")
    recipient = conversation.other(actor.id)
    require_can_message(actor, recipient)
    body = clean_message(body)
    check_flood(actor.id, "dm")
    now = now or utcnow()
    msg = DirectMessage(conversation_id=conversation.id, sender_id=actor.id,
                        recipient_id=recipient.id, body=body, created_at=now)
    db.session.add(msg)
    conversation.last_message_at = now
    db.session.flush()
    notify(recipient, "dm.received", sender=actor.display_name, preview=preview(body),
           conversation_id=conversation.id)
    event = DMView.from_row(msg, actor.display_name).to_event(SENT)
    publish(channels.user_dm(recipient.id), event)
    publish(channels.user_dm(actor.id), event)  # the sender's other tabs
    return msg


@dataclass(frozen=True)
class HistoryPage:
    messages: list[DMView]  # oldest first
    earlier: int | None  # `before_id` of the page before this one, if there is one


def history(actor, conversation: Conversation, *, before_id: int | None = None,
            limit: int = HISTORY_PAGE) -> HistoryPage:
    """A page of messages, newest `limit` before `before_id` (keyset: stable while new
    messages arrive), returned oldest first."""
    require(can_read_conversation(actor, conversation), "read this conversation")
    limit = max(1, min(limit, 200))
    stmt = (sa.select(DirectMessage).where(DirectMessage.conversation_id == conversation.id)
            .order_by(DirectMessage.id.desc()).limit(limit + 1))
    if before_id is not None:
        stmt = stmt.where(DirectMessage.id < before_id)
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit][::-1]
    names = _names(conversation)
    views = [DMView.from_row(m, names.get(m.sender_id, "Deleted user")) for m in rows]
    return HistoryPage(views, rows[0].id if more and rows else None)


def messages_after(actor, after_id: int | None, *, limit: int = BACKLOG_LIMIT) -> list[DMView]:
    """Every message to or from `actor` with an id above `after_id` (a stream's backlog)."""
    if after_id is None or actor is None:
        return []
    sender = aliased(User)
    rows = db.session.execute(
        sa.select(DirectMessage, sender.display_name)
        .outerjoin(sender, sender.id == DirectMessage.sender_id)
        .where(DirectMessage.id > after_id,
               sa.or_(DirectMessage.recipient_id == actor.id, DirectMessage.sender_id == actor.id))
        .order_by(DirectMessage.id).limit(limit)).all()
    return [DMView.from_row(msg, name or "Deleted user") for msg, name in rows]


def last_message_id(actor) -> int:
    """The newest message id to or from `actor` (where a page's live stream starts)."""
    return db.session.scalar(sa.select(sa.func.max(DirectMessage.id)).where(
        sa.or_(DirectMessage.recipient_id == actor.id, DirectMessage.sender_id == actor.id))) or 0


def seen_id(actor, conversation: Conversation) -> int | None:
    """The newest of `actor`'s messages in `conversation` the other user has read."""
    return db.session.scalar(sa.select(sa.func.max(DirectMessage.id)).where(
        DirectMessage.conversation_id == conversation.id, DirectMessage.sender_id == actor.id,
        DirectMessage.read_at.is_not(None)))


def mark_read(actor, conversation: Conversation, *, now: datetime | None = None) -> int:
    """Mark `actor`'s unread received messages read; the sender gets a live receipt."""
    require(can_read_conversation(actor, conversation), "read this conversation")
    unread = (DirectMessage.conversation_id == conversation.id,
              DirectMessage.recipient_id == actor.id, DirectMessage.read_at.is_(None))
    up_to = db.session.scalar(sa.select(sa.func.max(DirectMessage.id)).where(*unread))
    if up_to is None:
        return 0
    result = db.session.execute(sa.update(DirectMessage).where(*unread, DirectMessage.id <= up_to)
                                .values(read_at=now or utcnow()))
    other = conversation.other(actor.id)
    receipt = {"type": READ, "conversation_id": conversation.id, "up_to_id": up_to,
               "reader_id": actor.id}
    if other is not None:
        publish(channels.user_dm(other.id), receipt)
    publish(channels.user_dm(actor.id), {**receipt, "type": READ_BY_ME})
    return result.rowcount or 0


def _unread(actor):
    return (DirectMessage.recipient_id == actor.id, DirectMessage.read_at.is_(None),
            DirectMessage.deleted_at.is_(None))


def unread_counts(actor) -> dict[int, int]:
    rows = db.session.execute(sa.select(DirectMessage.conversation_id, sa.func.count())
                              .where(*_unread(actor)).group_by(DirectMessage.conversation_id))
    return {cid: n for cid, n in rows}


def unread_total(actor) -> int:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(DirectMessage)
                             .where(*_unread(actor))) or 0


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    other: User
    last: DMView | None
    unread: int


def inbox(actor, *, limit: int = 100, before: tuple[datetime, int] | None = None) -> list[InboxRow]:
    """Conversations with a message, newest first: the other user, the last message and
    the unread count (three queries, whatever the number of conversations). `before`: only
    those after this (last_message_at, id) in that order (the next page of a keyset list)."""
    require(getattr(actor, "is_authenticated", False), "read messages")
    stmt = (sa.select(Conversation)
            .options(joinedload(Conversation.user_low), joinedload(Conversation.user_high))
            .where(sa.or_(Conversation.user_low_id == actor.id, Conversation.user_high_id == actor.id),
                   Conversation.last_message_at.is_not(None))
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit))
    stmt = stmt.where(after_row(Conversation.last_message_at, Conversation.id, before))
    conversations = list(db.session.scalars(stmt))
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    newest = (sa.select(sa.func.max(DirectMessage.id)).where(DirectMessage.conversation_id.in_(ids))
              .group_by(DirectMessage.conversation_id))
    last = {m.conversation_id: m for m in db.session.scalars(
        sa.select(DirectMessage).where(DirectMessage.id.in_(newest)))}
    counts = unread_counts(actor)
    rows = []
    for c in conversations:
        msg = last.get(c.id)
        view = DMView.from_row(msg, _names(c).get(msg.sender_id, "Deleted user")) if msg else None
        rows.append(InboxRow(c, c.other(actor.id), view, counts.get(c.id, 0)))
    return rows


# --- reports and moderation --------------------------------------------------------------

def access_message(actor, message_id: int) -> DirectMessage:
    msg = db.session.get(DirectMessage, message_id)
    if msg is None:
        raise NotFound("No such message.")
    require(actor is not None and getattr(actor, "is_authenticated", False)
            and actor.id in (msg.sender_id, msg.recipient_id), "read this message")
    return msg


def moderator_delete(actor, message_id: int, *, reason: str, now: datetime | None = None) -> DirectMessage:
    """Remove a message's text for both users (it keeps its place: "removed by a moderator")."""
    require(can_moderate(actor), "remove direct messages")
    msg = db.session.get(DirectMessage, message_id)
    if msg is None:
        raise NotFound("No such message.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid("Give a reason for the record.", field="reason")
    if msg.deleted_at is not None:
        return msg
    msg.deleted_at = now or utcnow()
    record_audit(actor, "dm.deleted", msg, before={"body": msg.body},
                 after={"deleted_at": msg.deleted_at.isoformat()}, reason=reason)
    db.session.flush()
    event = DMView.from_row(msg, msg.sender.display_name if msg.sender else "Deleted user").to_event(DELETED)
    for user_id in {msg.sender_id, msg.recipient_id} - {None}:
        publish(channels.user_dm(user_id), event)
    return msg
