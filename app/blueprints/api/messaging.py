"""Messaging: my notifications (a list, marking them read, and a live event stream), my
direct messages (conversations, their messages, sending) and course chat rooms' history.

The same services as the pages (app/messaging/): blocks, suspensions, the flood limit and
the room's membership and slow mode apply alike. Another user's notification or
conversation is a 404, whether or not it exists. A course's live chat is its room socket,
`/ws/chat/{course_id}`, which takes `Authorization: Bearer <token>` (with `learn`) on the
handshake (blueprints/chat/socket_auth.py).
"""
from __future__ import annotations

import json

from flask import g
from pydantic import Field

from app.accounts.models import User
from app.accounts.queries import get_user
from app.blueprints.api import bp
from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.keysets import keyset_page, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.problems import mine_or_404, problem
from app.blueprints.api.schemas import Person, Time
from app.blueprints.streaming import event_stream, release_db, resume_id
from app.errors import NotFound
from app.extensions import db
from app.messaging import channels, chat, direct, notifications
from app.messaging.direct import DMView
from app.messaging.models import ChatMessage, Conversation, Notification
from app.messaging.text import MESSAGE_MAX
from app.messaging.transport.sse import MAX_EVENT_ID, SSEEvent

NOTIFICATIONS, MESSAGES, CHAT = "Notifications", "Messages", "Chat"
MAX_ID = 2**31 - 1
STREAM_BACKLOG = 50  # as the page's stream: a client away longer lists the rest


def _person(user: User | None) -> Person | None:
    if user is None:
        return None
    return Person(id=user.id, display_name=user.display_name, headline=user.headline or "")


# --- notifications --------------------------------------------------------------------------

class NotificationItem(ApiModel):
    id: int
    kind: str = Field(description="What it is about, e.g. `dm.received`, `commerce.sale`")
    label: str = Field(description="The kind in words")
    text: str = Field(description="The notification as a sentence")
    url: str | None = Field(description="The site's page about it (a path), if any")
    created_at: Time
    read_at: Time | None


class NotificationPage(Page):
    items: list[NotificationItem] = Field(description="Newest first")
    unread_count: int


class NotificationsRead(ApiModel):
    marked: int = Field(description="How many were unread")
    unread_count: int


class NotificationStreamQuery(ApiModel):
    after: int | None = Field(None, ge=0, le=MAX_EVENT_ID,
                              description="Resume after this notification id (or send `Last-Event-ID`); "
                                          "default: only what arrives from now on")


def _notification(note: Notification) -> NotificationItem:
    text, url = notifications.describe(note)
    return NotificationItem(id=note.id, kind=note.kind, label=notifications.kind_label(note.kind), text=text,
                            url=url, created_at=note.created_at, read_at=note.read_at)


@bp.get("/notifications")
@operation(tags=[NOTIFICATIONS], scope="read", query=CursorQuery, model=NotificationPage)
def notification_list(query: CursorQuery):
    """My notifications

    Newest first, a page at a time, with the unread count (the notification centre)."""
    me = g.api_grant.user
    position = decode_cursor(query.cursor, kind="notifications") or {}
    rows, more = notifications.notifications_before(me, before_id=position.get("before"), limit=query.limit)
    return NotificationPage(
        items=[_notification(note) for note in rows], unread_count=notifications.unread_count(me),
        next_cursor=encode_cursor({"kind": "notifications", "before": rows[-1].id}) if more else None)


@bp.post("/notifications/<int:notification_id>/read")
@operation(tags=[NOTIFICATIONS], scope="learn", model=NotificationItem, not_found=True)
def notification_read(notification_id: int):
    """Mark a notification read

    Marking it again changes nothing."""
    note = mine_or_404(notifications.mark_read, g.api_grant.user, notification_id, what="notification")
    db.session.commit()
    return _notification(note)


@bp.post("/notifications/read-all")
@operation(tags=[NOTIFICATIONS], scope="learn", model=NotificationsRead)
def notification_read_all():
    """Mark all my notifications read"""
    me = g.api_grant.user
    marked = notifications.mark_all_read(me)
    db.session.commit()
    return NotificationsRead(marked=marked, unread_count=notifications.unread_count(me))


STREAM_EVENTS = (
    "Server-sent events, as the site's pages get them. Each new notification is an event "
    "`notification` whose `id:` is the notification's id and whose `data:` is JSON: "
    "`{\"notification\": <a NotificationItem without read_at>, \"unread_count\": n}`. "
    "Comment lines (`: heartbeat`) keep the connection open. Reconnect with `Last-Event-ID` (or "
    "`?after=`) to get what you missed (the newest 50 at most; list the rest). The stream ends "
    "with the event `stream-closed` when the token is revoked or expires, the user is "
    "suspended, or they open more live connections than allowed (the oldest close): "
    "do not reconnect with the same token then before checking it (GET /api/v1/me).")


def _stream_event(event: dict) -> SSEEvent:
    """A relayed notification (subscribers.notification_event) as the API's JSON."""
    created_at = event.get("created_at")
    if isinstance(created_at, str) and created_at.endswith("+00:00"):
        created_at = created_at[:-len("+00:00")] + "Z"  # as every time of the API
    item = {"id": event["id"], "kind": event.get("kind", ""), "label": event.get("label", ""),
            "text": event.get("text", ""), "url": event.get("url"), "created_at": created_at}
    return SSEEvent("notification", json.dumps({"notification": item, "unread_count": event.get("unread") or 0}),
                    id=event["id"])


@bp.get("/notifications/stream")
@operation(tags=[NOTIFICATIONS], scope="read", query=NotificationStreamQuery, stream=STREAM_EVENTS)
def notification_stream(query: NotificationStreamQuery):
    """Live notifications (server-sent events)

    The page's live stream for a client holding a token: `Accept: text/event-stream`."""
    grant = g.api_grant
    me_id = grant.user.id
    newest = notifications.latest_id(grant.user)
    after = resume_id()
    if after is None or after > newest:
        after = newest
    release_db()

    def backlog(after_id: int | None) -> list[SSEEvent]:
        if after_id is None:
            return []
        me = db.session.get(User, me_id)
        rows = notifications.notifications_after(me, after_id, limit=STREAM_BACKLOG)
        if not rows:
            return []
        unread = notifications.unread_count(me)
        return [_stream_event({**_notification(note).model_dump(mode="json"), "unread": unread}) for note in rows]

    def render(event: dict) -> list[SSEEvent]:
        if event.get("type") != "notification" or not isinstance(event.get("id"), int):
            return []
        return [_stream_event(event)]

    return event_stream([channels.user_notify(me_id)], backlog=backlog, render=render, after=after,
                        user_id=me_id, grant=grant, render_is_pure=True)


# --- direct messages --------------------------------------------------------------------------

class DirectMessageItem(ApiModel):
    id: int
    conversation_id: int
    sender: Person | None = Field(description="Null if their account was deleted")
    body: str = Field(description="As written (plain text with light Markdown); empty if removed")
    created_at: Time
    read: bool = Field(description="Whether the recipient has read it")
    deleted: bool = Field(description="Removed by a moderator")


class ConversationSummary(ApiModel):
    id: int
    other: Person = Field(description="Who the conversation is with")
    last_message: DirectMessageItem | None
    unread: int = Field(description="Messages to me not read yet")


class ConversationPage(Page):
    items: list[ConversationSummary] = Field(description="Latest message first")


class DirectMessagePage(Page):
    items: list[DirectMessageItem] = Field(description="Newest first; the cursor goes back in time")


class ConversationStart(ApiModel):
    to: int = Field(ge=1, le=MAX_ID, description="The user to write to (a creator's or a learner's id)")


class DirectMessageSend(ApiModel):
    body: str = Field(max_length=4 * MESSAGE_MAX,
                      description=f"At most {MESSAGE_MAX} characters once trimmed; not empty")


class ConversationRead(ApiModel):
    marked: int = Field(description="How many messages were unread")


def _conversation(conversation_id: int) -> Conversation:
    return mine_or_404(direct.access_conversation, g.api_grant.user, conversation_id, what="conversation")


def _dm(view: DMView, conversation: Conversation) -> DirectMessageItem:
    people = {conversation.user_low_id: conversation.user_low, conversation.user_high_id: conversation.user_high}
    return DirectMessageItem(id=view.id, conversation_id=view.conversation_id,
                             sender=_person(people.get(view.sender_id)), body=view.body,
                             created_at=view.created_at, read=view.read, deleted=view.deleted)


def _summary(conversation: Conversation, last: DMView | None, unread: int) -> ConversationSummary:
    return ConversationSummary(id=conversation.id, other=_person(conversation.other(g.api_grant.user.id)),
                               last_message=_dm(last, conversation) if last else None, unread=unread)


@bp.get("/conversations")
@operation(tags=[MESSAGES], scope="read", query=CursorQuery, model=ConversationPage)
def conversation_list(query: CursorQuery):
    """My conversations

    Those with at least one message, the latest first: who with, the last message and how
    many are unread (the inbox)."""
    rows = direct.inbox(g.api_grant.user, limit=query.limit + 1, before=position_after(query, "conversations"))
    rows, cursor = keyset_page(rows, query.limit, "conversations",
                               lambda row: (row.conversation.last_message_at, row.conversation.id))
    return ConversationPage(items=[_summary(row.conversation, row.last, row.unread) for row in rows],
                            next_cursor=cursor)


@bp.post("/conversations")
@operation(tags=[MESSAGES], scope="learn", json=ConversationStart, model=ConversationSummary, not_found=True)
def conversation_start(json: ConversationStart):
    """Start (or find) a conversation

    The conversation with a user, made on first use. Refused (403) if either of you has
    blocked the other or their account is suspended."""
    other = get_user(json.to)
    if other is None:
        raise NotFound("No such user.")
    conversation = direct.conversation_with(g.api_grant.user, other)
    db.session.commit()
    unread = direct.unread_counts(g.api_grant.user).get(conversation.id, 0)
    newest = direct.history(g.api_grant.user, conversation, limit=1).messages
    return _summary(conversation, newest[-1] if newest else None, unread)


@bp.get("/conversations/<int:conversation_id>/messages")
@operation(tags=[MESSAGES], scope="read", query=CursorQuery, model=DirectMessagePage, not_found=True)
def conversation_messages(conversation_id: int, query: CursorQuery):
    """A conversation's messages

    Newest first, a page at a time. Reading them here does not mark them read:
    POST …/read does."""
    conversation = _conversation(conversation_id)
    position = decode_cursor(query.cursor, kind="dm")
    if position is not None and position.get("conversation") != conversation.id:
        raise problem(422, "This cursor belongs to another conversation; start again without it.")
    page = direct.history(g.api_grant.user, conversation, before_id=position and position["before"],
                          limit=query.limit)
    return DirectMessagePage(
        items=[_dm(view, conversation) for view in reversed(page.messages)],
        next_cursor=encode_cursor({"kind": "dm", "conversation": conversation.id, "before": page.earlier})
        if page.earlier else None)


@bp.post("/conversations/<int:conversation_id>/messages")
@operation(tags=[MESSAGES], scope="learn", json=DirectMessageSend, model=DirectMessageItem, ok=201,
           not_found=True)
def conversation_send(conversation_id: int, json: DirectMessageSend):
    """Send a message

    As the conversation page sends it: refused (403) once either has blocked the other or
    the recipient is suspended; 429 with `Retry-After` when sending too fast."""
    conversation = _conversation(conversation_id)
    message = direct.send_direct_message(g.api_grant.user, conversation, json.body)
    db.session.commit()
    view = DMView.from_row(message, g.api_grant.user.display_name)
    return _dm(view, conversation), 201


@bp.post("/conversations/<int:conversation_id>/read")
@operation(tags=[MESSAGES], scope="learn", model=ConversationRead, not_found=True)
def conversation_read(conversation_id: int):
    """Mark a conversation read

    Every message to me in it; the sender sees it as read."""
    conversation = _conversation(conversation_id)
    marked = direct.mark_read(g.api_grant.user, conversation)
    db.session.commit()
    return ConversationRead(marked=marked)


# --- course chat --------------------------------------------------------------------------------

class ChatMessageItem(ApiModel):
    id: int
    author: Person | None = Field(description="Null if their account was deleted")
    author_is_creator: bool = Field(description="Written by the course's creator")
    body: str = Field(description="As written (plain text with light Markdown); empty once deleted")
    created_at: Time
    edited: bool
    deleted: bool


class ChatMessagePage(Page):
    items: list[ChatMessageItem] = Field(description="Newest first; the cursor goes back in time")


def _chat_message(message: ChatMessage, course) -> ChatMessageItem:
    event = chat.message_event(message, "created", course)
    return ChatMessageItem(id=message.id, author=_person(message.author),
                           author_is_creator=event["author_is_creator"], body=event["body"],
                           created_at=message.created_at, edited=event["edited"], deleted=event["deleted"])


@bp.get("/courses/<int:course_id>/chat/messages")
@operation(tags=[CHAT], scope="read", query=CursorQuery, model=ChatMessagePage, not_found=True)
def chat_history(course_id: int, query: CursorQuery):
    """A course chat room's history

    For the room's members: the course's learners (not banned), its creator and moderators;
    anyone else gets 403 with the reason. Live messages, and posting, go through the room's
    WebSocket, `/ws/chat/{course_id}`, opened with `Authorization: Bearer <token>` (scope
    `learn`)."""
    me = g.api_grant.user
    course = chat.access_room(me, course_id)
    position = decode_cursor(query.cursor, kind="chat")
    if position is not None and position.get("course") != course.id:
        raise problem(422, "This cursor belongs to another room; start again without it.")
    page = chat.history(me, course, before_id=position and position["before"], limit=query.limit)
    return ChatMessagePage(
        items=[_chat_message(message, course) for message in reversed(page.messages)],
        next_cursor=encode_cursor({"kind": "chat", "course": course.id, "before": page.first_id})
        if page.has_earlier else None)
