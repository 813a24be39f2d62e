from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db


class Notification(db.Model):
    """A stored notification: the row is the truth; live delivery (SSE) only relays it."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(48))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sent in an e-mail digest

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(db.Model):
    """Per-kind choice of an e-mail digest; in-app notifications are always on, so only
    kinds a user opted into have a row."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    email_digest: Mapped[bool] = mapped_column(default=False)


class ChatRoom(db.Model):
    """A course's chat room settings; a course without a row has a room with defaults."""

    __tablename__ = "chat_room"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class ChatMessage(db.Model):
    """One message in a course's room. Rows are never removed by users: a deleted message
    keeps its place (and its id, which reconnecting clients count from) as "deleted"."""

    __tablename__ = "chat_message"
    __table_args__ = (sa.Index("ix_chat_message_course_id_id", "course_id", "id"),
                      sa.Index("ix_chat_message_author_created", "author_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


CHAT_SANCTIONS = ("mute", "ban")


class ChatSanction(db.Model):
    """A mute (may read, may not post) or ban (may not join) of a user in one room,
    until a time or (ban only) for good; lifting keeps the row for the record."""

    __tablename__ = "chat_sanction"
    __table_args__ = (sa.Index("ix_chat_sanction_room_user", "course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Conversation(db.Model):
    """A private conversation between two users, stored once per pair (lower id first)."""

    __tablename__ = "conversation"
    __table_args__ = (sa.UniqueConstraint("user_low_id", "user_high_id"),
                      sa.CheckConstraint("user_low_id < user_high_id", name="ordered_pair"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_low_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    user_high_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    user_low: Mapped[User] = relationship(foreign_keys=[user_low_id])
    user_high: Mapped[User] = relationship(foreign_keys=[user_high_id])

    def other(self, user_id: int) -> User:
        return self.user_high if user_id == self.user_low_id else self.user_low

    def has_member(self, user_id: int) -> bool:
        return user_id in (self.user_low_id, self.user_high_id)


class DirectMessage(db.Model):
    __tablename__ = "direct_message"
    __table_args__ = (sa.Index("ix_direct_message_conversation_id_id", "conversation_id", "id"),
                      sa.Index("ix_direct_message_recipient_unread", "recipient_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(sa.ForeignKey("conversation.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by a moderator

    sender: Mapped[User | None] = relationship(foreign_keys=[sender_id])

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class UserBlock(db.Model):
    """`blocker` does not want messages from `blocked` (and neither can message the other)."""

    __tablename__ = "user_block"

    blocker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
