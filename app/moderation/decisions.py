"""Acting on reported content: one decision closes every open report about a target.

`resolve` checks the moderator's permission, changes the content through the service that
owns it (chat, direct messages, discussions, reviews, suspensions: their rules apply),
writes one audit row with the reason, closes the reports with the outcome and tells each
reporter the outcome, without naming the moderator. Deciding twice is a Conflict."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.permissions import can_manage_users
from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning import discussions, reviews
from app.messaging import chat, chat_moderation, direct
from app.messaging.notifications import notify
from app.moderation.audit import record_audit
from app.moderation.events import ReportClosed
from app.moderation.models import REPORT_TARGETS, Report
from app.moderation.permissions import can_moderate
from app.moderation.queue import target_context
from app.moderation.reports import WHAT, clean_reason
from app.moderation.suspensions import suspend_user
from app.policy import require

ACTIONS = ("dismiss", "delete", "mute", "ban", "suspend")
ACTION_LABELS = {"dismiss": "Dismiss: nothing wrong, keep it", "delete": "Delete the content",
                 "mute": "Mute the author in this room", "ban": "Ban the author from this room",
                 "suspend": "Suspend the author's account"}
CHAT_ONLY = ("mute", "ban")
MINUTES_MAX = chat_moderation.MAX_SANCTION_MINUTES  # a year (and a day)


@dataclass(frozen=True)
class Decision:
    target_type: str
    target_id: int
    action: str
    status: str  # resolved | dismissed
    outcome: str
    label: str
    reports: int


def actions_for(actor, target_type: str) -> list[str]:
    """The actions offered to `actor` for a target of this type (the same rule `resolve` applies)."""
    offered = ["dismiss", "delete"]
    if target_type == "chat_message":
        offered += list(CHAT_ONLY)
    if can_manage_users(actor):
        offered.append("suspend")
    return offered


def clean_minutes(minutes, *, required: bool) -> int | None:
    """Whole minutes from 1 to a year; empty means none (or is refused when `required`)."""
    if minutes is None or (isinstance(minutes, str) and not minutes.strip()):
        if required:
            raise Invalid("Say for how many minutes.", field="minutes")
        return None
    if isinstance(minutes, bool):
        raise Invalid("Minutes must be a whole number.", field="minutes")
    try:
        value = int(str(minutes).strip())
    except ValueError:
        raise Invalid("Minutes must be a whole number.", field="minutes") from None
    if not 1 <= value <= MINUTES_MAX:
        raise Invalid(f"Choose from 1 to {MINUTES_MAX:,} minutes (about a year).", field="minutes")
    return value


def duration(minutes: int) -> str:
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            n = minutes // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{minutes} minutes"  # pragma: no cover (every whole number divides by 1)


def _outcome(action: str, target_type: str, minutes: int | None) -> str:
    what = WHAT[target_type]
    if action == "dismiss":
        return f"we reviewed the {what} and it does not break the rules, so it stays"
    if action == "delete":
        return f"the {what} was removed"
    if action == "mute":
        return f"the {what} stays up and its author may not post in the room for {duration(minutes)}"
    if action == "ban":
        return (f"its author is banned from the room for {duration(minutes)}" if minutes
                else "its author is banned from the room")
    return "the author's account is suspended"


def _snapshot(ctx) -> dict:
    content = ctx.content
    if content is None:
        return {"missing": True}
    return {"body": getattr(content, "body", None), "author_id": getattr(ctx.author, "id", None),
            "deleted": ctx.deleted,
            **({"rating": content.rating} if ctx.target_type == "review" else {})}


def _delete(actor, ctx, *, reason: str, now: datetime) -> None:
    if ctx.missing or ctx.deleted:
        return  # already gone: the reports close with that outcome
    if ctx.target_type == "chat_message":
        chat.delete_message(actor, ctx.target_id, reason=reason, now=now)
    elif ctx.target_type == "direct_message":
        direct.moderator_delete(actor, ctx.target_id, reason=reason, now=now)
    elif ctx.target_type == "discussion_post":
        discussions.delete_post(actor, ctx.content, now=now)
    else:
        reviews.moderator_delete_review(actor, ctx.content)


def _act(actor, ctx, action: str, *, reason: str, minutes: int | None, now: datetime,
         ip: str | None) -> None:
    if action == "dismiss":
        return
    if action == "delete":
        _delete(actor, ctx, reason=reason, now=now)
        return
    if ctx.author is None:
        raise Invalid("The author's account no longer exists; dismiss or delete instead.",
                      field="action")
    if action in CHAT_ONLY:
        if ctx.course is None:
            raise Invalid("The room no longer exists.", field="action")
        chat_moderation.sanction_user(actor, ctx.course, ctx.author, kind=action, minutes=minutes,
                                      reason=reason, now=now)
    else:
        until = now + timedelta(minutes=minutes) if minutes else None
        suspend_user(actor, ctx.author, reason=reason, until=until, now=now, ip=ip)


def resolve(actor, target_type: str, target_id: int, *, action: str, reason: str,
            minutes=None, ip: str | None = None, now: datetime | None = None) -> Decision:
    """Decide on everything reported about one target (see the module docstring)."""
    require(can_moderate(actor), "moderate reported content")
    if target_type not in REPORT_TARGETS:
        raise NotFound("Nothing like that can be reported.")
    if action not in ACTIONS:
        raise Invalid("Choose one of the actions.", field="action")
    if action in CHAT_ONLY and target_type != "chat_message":
        raise Invalid("Mute and ban are for chat messages only.", field="action")
    if action == "suspend":
        require(can_manage_users(actor), "suspend users")
    reason = clean_reason(reason, ask="Give a reason for the record.")
    minutes = clean_minutes(minutes, required=action == "mute") if action in ("mute", "ban", "suspend") \
        else None
    now = now or utcnow()
    where = (Report.target_type == target_type, Report.target_id == target_id)
    # Row locks: a second moderator deciding at the same moment waits, then finds nothing open.
    reports = list(db.session.scalars(sa.select(Report).where(*where, Report.status == "open")
                                      .order_by(Report.id).with_for_update()))
    if not reports:
        handled = db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(*where))
        if handled:
            raise Conflict("These reports were already handled.")
        raise NotFound("Nobody reported that.")
    ctx = target_context(target_type, target_id)
    before = _snapshot(ctx)
    _act(actor, ctx, action, reason=reason, minutes=minutes, now=now, ip=ip)
    outcome = _outcome(action, target_type, minutes)
    status = "dismissed" if action == "dismiss" else "resolved"
    entry = record_audit(actor, f"moderation.{action}", ctx.content or reports[0],
                         before={**before, "reports": [r.id for r in reports]},
                         after={"status": status, "outcome": outcome, "minutes": minutes},
                         reason=reason, ip=ip)
    entry.target_type, entry.target_id, entry.target_label = target_type, target_id, ctx.label[:255]
    for r in reports:
        r.status, r.resolved_at, r.resolved_by_id, r.outcome = status, now, actor.id, outcome
        emit(ReportClosed(report_id=r.id))
    for reporter in {r.reporter for r in reports if r.reporter is not None}:
        notify(reporter, "moderation.report_closed", target=ctx.label, outcome=outcome)
    db.session.flush()
    return Decision(target_type, target_id, action, status, outcome, ctx.label, len(reports))
