"""The moderation queue: open reports grouped by what they are about, oldest first, each
with enough context to decide (permission `moderate`).

Several reports of one message are one item (all reasons, the number of reporters). The
context is only what a decision needs: for a direct message, the reported message and its
neighbours, never the whole conversation. A target that no longer exists is shown as such."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Course
from app.errors import Invalid, NotFound
from app.extensions import db
from app.messaging.models import ChatMessage, Conversation, DirectMessage
from app.moderation.models import REPORT_TARGETS, Report
from app.moderation.permissions import can_moderate
from app.moderation.reports import author_id_of, load_target
from app.policy import require

PER_PAGE = 20
CHAT_AROUND = 3  # messages shown before and after a reported chat message
DM_AROUND = 2  # and a reported direct message


@dataclass
class TargetContext:
    target_type: str
    target_id: int
    content: object | None  # the reported row; None when it no longer exists
    label: str  # "a chat message in “Python”": what the reporters are told about
    author: object | None = None
    course: object | None = None
    thread: object | None = None
    parties: tuple = ()  # a direct message's sender and recipient
    around: list = field(default_factory=list)  # neighbours and the message, oldest first

    @property
    def missing(self) -> bool:
        return self.content is None

    @property
    def deleted(self) -> bool:
        return getattr(self.content, "deleted_at", None) is not None


@dataclass
class QueueItem:
    target_type: str
    target_id: int
    reports: list[Report]
    context: TargetContext

    @property
    def dom_id(self) -> str:
        return f"report-{self.target_type}-{self.target_id}"

    @property
    def reporter_count(self) -> int:
        return len({r.reporter_id for r in self.reports})

    @property
    def first_reported_at(self) -> datetime | None:
        return min((r.created_at for r in self.reports), default=None)


@dataclass
class QueuePage:
    items: list[QueueItem]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return min(self.page - 1, self.pages)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int:
        return self.page + 1


def _around(model, scope_column, scope_id: int, message_id: int, n: int) -> list:
    before = db.session.scalars(sa.select(model).where(scope_column == scope_id, model.id < message_id)
                                .order_by(model.id.desc()).limit(n))
    after = db.session.scalars(sa.select(model).where(scope_column == scope_id, model.id > message_id)
                               .order_by(model.id).limit(n))
    message = db.session.get(model, message_id)
    return [*reversed(list(before)), message, *after]


def target_context(target_type: str, target_id: int) -> TargetContext:
    """What a moderator sees about one reported thing (no permission check: callers hold one)."""
    content = load_target(target_type, target_id)
    noun = {"discussion_post": "a discussion post", "review": "a review",
            "chat_message": "a chat message", "direct_message": "a direct message"}[target_type]
    ctx = TargetContext(target_type, target_id, content, noun)
    if content is None:
        return ctx
    author_id = author_id_of(target_type, content)
    ctx.author = db.session.get(User, author_id) if author_id else None
    if target_type == "chat_message":
        ctx.course = db.session.get(Course, content.course_id)
        if ctx.course is not None:
            ctx.label = f"a chat message in “{ctx.course.title}”"
        ctx.around = _around(ChatMessage, ChatMessage.course_id, content.course_id, content.id,
                             CHAT_AROUND)
    elif target_type == "direct_message":
        conversation = db.session.get(Conversation, content.conversation_id)
        ctx.parties = (ctx.author, db.session.get(User, content.recipient_id)
                       if content.recipient_id else None)
        if conversation is not None:
            ctx.around = _around(DirectMessage, DirectMessage.conversation_id, conversation.id,
                                 content.id, DM_AROUND)
    elif target_type == "discussion_post":
        ctx.thread, ctx.course = content.thread, content.thread.course
        ctx.label = f"a post in “{ctx.thread.title}”"
    else:
        ctx.course = content.course
        ctx.label = f"a review of “{ctx.course.title}”"
    return ctx


def _reports_for(keys: list[tuple[str, int]], *, status: str | None = "open") -> dict:
    found: dict[tuple[str, int], list[Report]] = {key: [] for key in keys}
    if not keys:
        return found
    stmt = (sa.select(Report).where(sa.or_(*(sa.and_(Report.target_type == t, Report.target_id == i)
                                             for t, i in keys)))
            .order_by(Report.created_at, Report.id))
    if status:
        stmt = stmt.where(Report.status == status)
    for entry in db.session.scalars(stmt):
        found[(entry.target_type, entry.target_id)].append(entry)
    return found


def moderation_queue(actor, *, page: int = 1, per_page: int = PER_PAGE) -> QueuePage:
    """Open reports grouped by target, the longest-waiting target first."""
    require(can_moderate(actor), "moderate reported content")
    page = max(int(page), 1)
    groups, _ = _open_groups()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(groups.subquery())) or 0
    keys = [(t, i) for t, i, _ in db.session.execute(groups.limit(per_page)
                                                       .offset((page - 1) * per_page))]
    return QueuePage(_items(keys), page, per_page, total)


def moderation_queue_after(actor, *, after: tuple[datetime, str, int] | None = None,
                           limit: int = PER_PAGE) -> list[QueueItem]:
    """The same queue a page at a time by position: the items after `after` (an item's
    `(first_reported_at, target_type, target_id)`) in the queue's order."""
    require(can_moderate(actor), "moderate reported content")
    groups, first_at = _open_groups()
    if after is not None:
        at, kind, target = after
        groups = groups.having(sa.or_(
            first_at > at,
            sa.and_(first_at == at, Report.target_type > kind),
            sa.and_(first_at == at, Report.target_type == kind, Report.target_id > target)))
    keys = [(t, i) for t, i, _ in db.session.execute(groups.limit(limit))]
    return _items(keys)


def _open_groups():
    """Targets with open reports, the longest-waiting first, and their first report's time."""
    first_at = sa.func.min(Report.created_at)
    groups = (sa.select(Report.target_type, Report.target_id, first_at.label("first_at"))
              .where(Report.status == "open")
              .group_by(Report.target_type, Report.target_id)
              .order_by(first_at, Report.target_type, Report.target_id))
    return groups, first_at


def _items(keys: list[tuple[str, int]]) -> list[QueueItem]:
    reports = _reports_for(keys)
    return [QueueItem(t, i, reports[(t, i)], target_context(t, i)) for t, i in keys]


def queue_item(actor, target_type: str, target_id: int, *, status: str | None = "open") -> QueueItem:
    """One target's item (its open reports, or all of them with `status=None`)."""
    require(can_moderate(actor), "moderate reported content")
    if target_type not in REPORT_TARGETS:
        raise Invalid("That cannot be reported.")
    reports = _reports_for([(target_type, target_id)], status=status)[(target_type, target_id)]
    if not reports:
        raise NotFound("Nobody reported that.")
    return QueueItem(target_type, target_id, reports, target_context(target_type, target_id))
