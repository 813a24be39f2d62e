"""`notify(user, kind, **data)`: the one way any part of Lyceum tells a user something.

It stores the row and emits `messaging.notification.created` after commit; live delivery
(the SSE stream) subscribes to that event. Each kind registers how it reads: a sentence
and an optional link, built from the stored data when shown, so old rows stay readable.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.dbtypes import utcnow
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.messaging.events import NotificationCreated
from app.messaging.models import Notification
from app.messaging.permissions import can_read_notification
from app.money import format_money
from app.policy import require


@dataclass(frozen=True)
class NotificationKind:
    label: str
    text: Callable[[dict], str]
    url: Callable[[dict], str | None] = lambda data: None


KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: str, label: str, text: Callable[[dict], str],
                  url: Callable[[dict], str | None] = lambda data: None) -> None:
    KINDS[kind] = NotificationKind(label, text, url)


register_kind("welcome", "Welcome", lambda d: f"Welcome to Lyceum, {d.get('name', 'friend')}! "
              "Browse courses to learn, or create your own to teach.",
              lambda d: "/dashboard")
register_kind("admin.permissions_changed", "Admin permissions",
              lambda d: "Your admin permissions changed: " + (", ".join(d.get("permissions", []))
                                                              or "none") + ".")


def _studio_url(data: dict) -> str | None:
    from flask import url_for
    return url_for("studio.course_edit", course_id=data["course_id"]) if "course_id" in data else None


register_kind("course.approved", "Course approved",
              lambda d: f"Your course “{d.get('title', '')}” is approved and published.", _studio_url)
register_kind("course.rejected", "Course rejected",
              lambda d: f"Your course “{d.get('title', '')}” needs changes before it can be "
                        "published: " + "; ".join([*d.get("reasons", []), d.get("note") or ""]).strip("; ")
                        + ".", _studio_url)
register_kind("course.unpublished", "Course unpublished",
              lambda d: f"An admin unpublished your course “{d.get('title', '')}”: "
                        f"{d.get('reason', '')}", _studio_url)
def _url(endpoint: str, **keys: str):
    """A link builder for stored data: `keys` maps URL arguments to data fields."""
    def build(data: dict) -> str | None:
        from flask import url_for
        if not all(field in data for field in keys.values()):
            return None
        return url_for(endpoint, **{arg: data[field] for arg, field in keys.items()})
    return build


register_kind("course.updated", "Course updated",
              lambda d: f"New lesson in “{d.get('title', '')}”: {d.get('lesson_title', '')}.",
              _url("learn.course_player", course_id="course_id"))
register_kind("learning.course_completed", "Course completed",
              lambda d: f"You completed “{d.get('title', '')}”. Your certificate is ready.",
              _url("certificates.certificate_detail", code="certificate"))
register_kind("discussion.question", "New question",
              lambda d: f"{d.get('author', 'A learner')} asked “{d.get('title', '')}” in "
                        f"“{d.get('course_title', '')}”.",
              _url("learn.thread_detail", course_id="course_id", thread_id="thread_id"))
register_kind("discussion.reply", "Reply to your question",
              lambda d: f"{d.get('author', 'Someone')} replied to your question “{d.get('title', '')}”.",
              _url("learn.thread_detail", course_id="course_id", thread_id="thread_id"))
register_kind("review.created", "New review",
              lambda d: f"{d.get('author', 'A learner')} rated “{d.get('title', '')}” "
                        f"{d.get('rating', '?')} out of 5.",
              _url("learn.course_reviews", course_id="course_id"))
register_kind("review.replied", "Reply to your review",
              lambda d: f"The creator of “{d.get('title', '')}” replied to your review.",
              _url("learn.course_reviews", course_id="course_id"))


def _money(data: dict, key: str = "amount") -> str:
    return format_money(int(data.get(key, 0)), data.get("currency", "USD"))


register_kind("commerce.sale", "Sale",
              lambda d: f"You sold “{d.get('title', '')}”: {_money(d)} for you"
                        + (" (held in escrow until the learner completes it or the escrow period ends)."
                           if d.get("held") else "."),
              _url("studio.earnings"))
register_kind("commerce.receipt", "Purchase receipt",
              lambda d: f"Receipt: you bought “{d.get('title', '')}” for {_money(d)}. Enjoy!",
              _url("checkout.purchase_list"))
register_kind("commerce.refund_requested", "Refund request",
              lambda d: f"Your refund request for “{d.get('title', '')}” goes to an admin "
                        f"({d.get('why', '')}).", _url("checkout.purchase_list"))
register_kind("commerce.refund_rejected", "Refund declined",
              lambda d: f"Your refund request for “{d.get('title', '')}” was declined: {d.get('note', '')}",
              _url("checkout.purchase_list"))
register_kind("commerce.refunded", "Refunded",
              lambda d: f"{_money(d)} for “{d.get('title', '')}” is refunded to you.",
              _url("checkout.purchase_list"))
register_kind("commerce.refund_creator", "Sale refunded",
              lambda d: f"A learner was refunded {_money(d)} for “{d.get('title', '')}”.",
              _url("studio.earnings"))
register_kind("commerce.dispute_opened", "Dispute opened",
              lambda d: f"A purchase of “{d.get('title', '')}” is disputed; its escrow is frozen. "
                        "Tell your side.", _url("checkout.dispute_detail", dispute_id="dispute_id"))
register_kind("commerce.dispute_message", "Dispute message",
              lambda d: f"New message in the dispute about “{d.get('title', '')}”.",
              _url("checkout.dispute_detail", dispute_id="dispute_id"))
register_kind("commerce.dispute_ruled", "Dispute decided",
              lambda d: f"The dispute about “{d.get('title', '')}” is decided: "
                        f"{str(d.get('ruling', '')).replace('_', ' ')}.",
              _url("checkout.dispute_detail", dispute_id="dispute_id"))
register_kind("commerce.payout_sent", "Payout sent",
              lambda d: f"Your payout of {_money(d)} is on its way.", _url("studio.earnings"))
register_kind("commerce.payout_failed", "Payout not sent",
              lambda d: f"Your payout of {_money(d)} could not be sent ({d.get('reason', '')}); "
                        "the money is back in your balance.", _url("studio.earnings"))

register_kind("dm.received", "New message",
              lambda d: f"{d.get('sender', 'Someone')} sent you a message: “{d.get('preview', '')}”",
              _url("chat.conversation_detail", conversation_id="conversation_id"))
register_kind("chat.mention", "Mentioned in chat",
              lambda d: f"{d.get('author', 'Someone')} mentioned you in the chat of “{d.get('title', '')}”: "
                        f"“{d.get('preview', '')}”",
              _url("chat.room", course_id="course_id"))
register_kind("chat.sanctioned", "Chat restriction",
              lambda d: f"You are {d.get('what', 'restricted')} in the chat of “{d.get('title', '')}”"
                        + (f" until {d['until']}" if d.get("until") else "")
                        + (f": {d['reason']}" if d.get("reason") else "."),
              _url("chat.room", course_id="course_id"))
register_kind("moderation.report_closed", "Your report",
              lambda d: f"Thank you for your report ({d.get('target', 'content')}). "
                        f"Outcome: {d.get('outcome', 'reviewed')}.")


def notify(user, kind: str, **data) -> Notification:
    if kind not in KINDS:
        raise Invalid(f"Unknown notification kind {kind!r}.")
    note = Notification(user_id=user.id, kind=kind, data=data)
    db.session.add(note)
    db.session.flush()
    emit(NotificationCreated(notification_id=note.id, user_id=user.id))
    return note


def describe(note: Notification) -> tuple[str, str | None]:
    kind = KINDS.get(note.kind)
    if kind is None:
        return (note.data.get("text") or note.kind, None)
    return kind.text(note.data), kind.url(note.data)


def describe_anywhere(note: Notification) -> tuple[str, str | None]:
    """`describe` outside a request too (an RQ job, the CLI): links are built with
    `url_for`, which needs a request or SERVER_NAME; without either the text comes alone."""
    from werkzeug.routing import BuildError

    try:
        return describe(note)
    except (RuntimeError, BuildError):
        return KINDS[note.kind].text(note.data), None


def kind_label(kind: str) -> str:
    found = KINDS.get(kind)
    return found.label if found else kind


def unread_count(user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_notifications(user, *, page: int = 1, per_page: int = 20):
    stmt = (sa.select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.id.desc()))
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def notifications_before(user, *, before_id: int | None = None, limit: int = 20) -> tuple[list[Notification], bool]:
    """A keyset page of `user`'s notifications, newest first: up to `limit` older than
    `before_id` (all, without it), and whether there are more (stable while new ones come)."""
    stmt = (sa.select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.id.desc()).limit(limit + 1))
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], len(rows) > limit


def latest_id(user) -> int:
    """The newest notification `user` has (0 if none): where a live stream starts."""
    return db.session.scalar(sa.select(sa.func.max(Notification.id))
                             .where(Notification.user_id == user.id)) or 0


def notifications_after(user, after_id: int, *, limit: int) -> list[Notification]:
    """What a reconnecting stream missed: the newest `limit` of `user`'s notifications
    after `after_id`, oldest first."""
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id, Notification.id > after_id)
        .order_by(Notification.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def access_notification(actor, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None:
        raise NotFound("No such notification.")
    require(can_read_notification(actor, note), "read this notification")
    return note


def mark_read(actor, notification_id: int, *, now: datetime | None = None) -> Notification:
    note = access_notification(actor, notification_id)
    if note.read_at is None:
        note.read_at = now or utcnow()
    return note


def mark_all_read(actor, *, now: datetime | None = None) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow()))
    return result.rowcount or 0
