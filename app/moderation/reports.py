"""Users report what others wrote; moderators work through the queue (real-time issue).

Reporting lives here, not beside the content: moderation sits above learning and messaging in
the import contract (pyproject.toml), so it may look their rows up and ask their membership
rules, while they never need to know that reports exist. One service per kind of content
(`report_post`, `report_review`, `report_chat_message`, `report_direct_message`) checks what
the page a report comes from implies, then `report_content` stores it.

Each kind of target has one loader (`load_target`) and one visibility rule
(`_check_reportable`): you report only what you can see, and never yourself."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Course
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning.discussions import require_member
from app.learning.models import Post, Review
from app.messaging import chat, direct
from app.messaging.models import ChatMessage, Conversation, DirectMessage
from app.messaging.permissions import can_read_conversation
from app.moderation.events import ReportOpened
from app.moderation.models import REPORT_TARGETS, Report
from app.policy import require

REASON_MAX = 2000
WHAT = {"discussion_post": "post", "review": "review", "chat_message": "message",
        "direct_message": "message"}


def load_target(target_type: str, target_id: int):
    """The reported row, or None when it does not exist (any more)."""
    model = {"discussion_post": Post, "review": Review, "chat_message": ChatMessage,
             "direct_message": DirectMessage}.get(target_type)
    if model is None or not isinstance(target_id, int) or not 0 < target_id < 2**63:
        return None
    return db.session.get(model, target_id)


def author_id_of(target_type: str, target) -> int | None:
    if target is None:
        return None
    if target_type == "review":
        return target.learner_id
    if target_type == "direct_message":
        return target.sender_id
    return target.author_id


def _check_reportable(actor, target_type: str, target) -> None:
    """Missing or deleted → NotFound; not visible to `actor` → NotAllowed; own → Invalid."""
    if target is None or getattr(target, "deleted_at", None) is not None:
        raise NotFound(f"That {WHAT[target_type]} does not exist (any more).")
    if target_type == "chat_message":
        course = db.session.get(Course, target.course_id)
        if course is None:
            raise NotFound("That message does not exist (any more).")
        chat.require_member(actor, course)
    elif target_type == "direct_message":
        conversation = db.session.get(Conversation, target.conversation_id)
        require(conversation is not None and can_read_conversation(actor, conversation),
                "report this message")
    elif target_type == "discussion_post":
        if target.thread.deleted_at is not None:
            raise NotFound("That post does not exist (any more).")
        require_member(actor, target.thread.course)
    if author_id_of(target_type, target) == actor.id:
        raise Invalid(f"You cannot report your own {WHAT[target_type]}.")


def clean_reason(reason: str | None, *, ask: str = "Tell the moderators what is wrong.") -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(ask, field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(f"Keep the reason under {REASON_MAX:,} characters.", field="reason")
    return reason


def report_content(actor, target_type: str, target_id: int, *, reason: str) -> Report:
    """Store a report once per reporter and target (reporting twice changes nothing).
    The target must exist, be visible to the reporter and be someone else's."""
    # Signed in and not suspended (Flask-Login's is_authenticated is False for suspended users).
    require(actor is not None and getattr(actor, "is_authenticated", False), "report content")
    if target_type not in REPORT_TARGETS:
        raise Invalid("That cannot be reported.")
    _check_reportable(actor, target_type, load_target(target_type, target_id))
    reason = clean_reason(reason)
    existing = db.session.scalar(sa.select(Report).where(
        Report.reporter_id == actor.id, Report.target_type == target_type,
        Report.target_id == target_id))
    if existing is not None:
        return existing
    entry = Report(reporter_id=actor.id, target_type=target_type, target_id=target_id, reason=reason)
    db.session.add(entry)
    db.session.flush()
    emit(ReportOpened(report_id=entry.id))
    return entry


def report_post(actor, post: Post, *, reason: str) -> Report:
    """A member of the course reports a discussion post."""
    require_member(actor, post.thread.course)
    return report_content(actor, "discussion_post", post.id, reason=reason)


def report_review(actor, review: Review, *, reason: str) -> Report:
    """Anyone signed in (and not suspended) reports a course review."""
    require(getattr(actor, "is_authenticated", False) and not actor.is_suspended(), "report reviews")
    return report_content(actor, "review", review.id, reason=reason)


def report_chat_message(actor, course: Course, message_id: int, *, reason: str) -> Report:
    """A member of the course's room reports a message in it (one still shown)."""
    message = chat.access_message(actor, course, message_id)
    if message.deleted_at is not None:
        raise NotFound("That message was deleted.")
    return report_content(actor, "chat_message", message.id, reason=reason)


def report_direct_message(actor, message_id: int, *, reason: str) -> Report:
    """The recipient reports a direct message they received."""
    msg = direct.access_message(actor, message_id)
    require(msg.recipient_id == actor.id and msg.deleted_at is None, "report this message")
    return report_content(actor, "direct_message", msg.id, reason=reason)


def open_reports() -> list[Report]:
    return list(db.session.scalars(sa.select(Report).where(Report.status == "open")
                                   .order_by(Report.created_at)))


def open_target_count() -> int:
    """How many reported things wait for a decision (several reports of one thing count once)."""
    targets = (sa.select(Report.target_type, Report.target_id).where(Report.status == "open")
               .group_by(Report.target_type, Report.target_id).subquery())
    return db.session.scalar(sa.select(sa.func.count()).select_from(targets)) or 0
