"""Pure messaging rules: notifications, course chat rooms and direct messages.

Facts that need the database (enrolled? banned? muted? blocked?) are looked up by the
service and passed in, so each rule stays a plain predicate (ARCHITECTURE §8)."""
from __future__ import annotations


def _signed_in(actor) -> bool:
    """Signed in and not suspended (a suspended user's sockets and streams are cut off)."""
    return (actor is not None and getattr(actor, "is_authenticated", False)
            and not actor.is_suspended())


def can_read_notification(actor, notification) -> bool:
    return _signed_in(actor) and notification.user_id == actor.id


def can_moderate_room(actor, course) -> bool:
    """The course's creator moderates its own room (delete, mute); moderators every room."""
    return _signed_in(actor) and (course.creator_id == actor.id or actor.has_permission("moderate"))


def can_ban_from_room(actor) -> bool:
    """Bans and slow mode are for the platform's moderators, not for creators."""
    return _signed_in(actor) and actor.has_permission("moderate")


def can_join_room(actor, course, *, enrolled: bool, banned: bool) -> bool:
    """Members are the enrolled (not banned), the creator and moderators."""
    if not _signed_in(actor):
        return False
    return can_moderate_room(actor, course) or (enrolled and not banned)


def can_post_in_room(actor, course, *, enrolled: bool, banned: bool, muted: bool) -> bool:
    if not can_join_room(actor, course, enrolled=enrolled, banned=banned):
        return False
    return can_moderate_room(actor, course) or not muted


def can_edit_chat_message(actor, message) -> bool:
    return _signed_in(actor) and message.deleted_at is None and message.author_id == actor.id


def can_delete_chat_message(actor, message, course) -> bool:
    if not _signed_in(actor) or message.deleted_at is not None:
        return False
    return message.author_id == actor.id or can_moderate_room(actor, course)


def can_read_conversation(actor, conversation) -> bool:
    return _signed_in(actor) and conversation.has_member(actor.id)


def can_message_user(actor, recipient, *, blocked: bool) -> bool:
    """Anyone signed in may write to anyone else (a course's creator, another learner)
    unless either has blocked the other or the recipient is suspended."""
    return (_signed_in(actor) and recipient is not None and recipient.id != actor.id
            and not recipient.is_suspended() and not blocked)


def can_block_user(actor, target) -> bool:
    return _signed_in(actor) and target is not None and target.id != actor.id
