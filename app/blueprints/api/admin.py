"""Admin, by permission: the course review queue and its decisions (`admin:review_courses`),
users and their suspensions (`admin:manage_users`) and the moderation queue
(`admin:moderate`). The money side (`admin:manage_finance`) is in admin_money.py.

Each route needs the token's `admin:<permission>` scope, and `Grant.allows` checks on every
call that the user still holds the permission; the services below check it once more, as
they do for the admin pages, which call the same services.
"""
from __future__ import annotations

from datetime import date
from enum import Enum

from flask import g
from pydantic import Field

from app.accounts.permissions import can_suspend_user
from app.accounts.queries import get_user, search_users_after
from app.blueprints.api import bp
from app.blueprints.api.keysets import keyset_page, keyset_position
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Amount, Person, Time
from app.blueprints.htmx import client_ip
from app.catalog import publishing
from app.catalog.queries import get_course, review_queue
from app.errors import NotFound
from app.extensions import db
from app.moderation import decisions, queue, suspensions
from app.moderation.models import REPORT_TARGETS

REVIEW_TAG, USERS_TAG, MODERATION_TAG = "Admin: course review", "Admin: users", "Admin: moderation"
RejectionReason = Enum("RejectionReason", {name: name for name in publishing.REJECTION_REASONS}, type=str)
ReportTarget = Enum("ReportTarget", {name: name for name in REPORT_TARGETS}, type=str)
ModerationAction = Enum("ModerationAction", {name: name for name in decisions.ACTIONS}, type=str)


def person(user) -> Person | None:
    return Person(id=user.id, display_name=user.display_name, headline=user.headline) if user else None


# --- course review (admin:review_courses) ------------------------------------------------------

class ChecklistEntry(ApiModel):
    ok: bool
    message: str


class ReviewCourse(ApiModel):
    id: int
    slug: str
    title: str
    creator: Person
    price: Amount
    lessons: int
    submitted_at: Time | None
    checklist: list[ChecklistEntry] = Field(description="The publishing checklist the creator passed when submitting")


class ReviewQueue(Page):
    items: list[ReviewCourse]


class CourseRejection(ApiModel):
    reasons: list[RejectionReason] = Field(
        default_factory=list, max_length=len(publishing.REJECTION_REASONS),
        description="; ".join(f"`{key}`: {label}" for key, label in publishing.REJECTION_REASONS.items()))
    note: str = Field("", description="To the creator; needed when no reason is given (at most 5,000 characters)")


class ReviewOutcome(ApiModel):
    id: int
    status: str = Field(description="`published` after an approval; `draft` or `unpublished` after a rejection")
    published_at: Time | None


def _review_course(course) -> ReviewCourse:
    return ReviewCourse(
        id=course.id, slug=course.slug, title=course.title, creator=person(course.creator),
        price=Amount.of(course.price_minor, course.currency), lessons=len(course.lessons),
        submitted_at=course.submitted_at,
        checklist=[ChecklistEntry(ok=item.ok, message=item.message) for item in publishing.checklist(course)])


@bp.get("/admin/review")
@operation(tags=[REVIEW_TAG], scope="admin:review_courses", query=CursorQuery, model=ReviewQueue)
def review_list(query: CursorQuery):
    """Courses waiting for review

    The review queue, the longest-waiting first."""
    courses, cursor = keyset_page(review_queue(after=keyset_position(query.cursor, "review"), limit=query.limit + 1),
                                  query.limit, "review", lambda course: (course.submitted_at, course.id))
    return ReviewQueue(items=[_review_course(course) for course in courses], next_cursor=cursor)


@bp.post("/admin/review/<int:course_id>/approve")
@operation(tags=[REVIEW_TAG], scope="admin:review_courses", model=ReviewOutcome, not_found=True, conflict=True)
def review_approve(course_id: int):
    """Approve a course

    Publishes a course waiting for review; its creator is told. Your own course is a 403."""
    course = publishing.approve_course(g.api_grant.user, get_course(course_id), ip=client_ip())
    db.session.commit()
    return ReviewOutcome(id=course.id, status=course.status, published_at=course.published_at)


@bp.post("/admin/review/<int:course_id>/reject")
@operation(tags=[REVIEW_TAG], scope="admin:review_courses", json=CourseRejection, model=ReviewOutcome,
           not_found=True, conflict=True)
def review_reject(course_id: int, json: CourseRejection):
    """Send a course back to its creator

    With reasons from the list, a note, or both; the creator sees them."""
    course = publishing.reject_course(g.api_grant.user, get_course(course_id),
                                      reasons=[reason.value for reason in json.reasons], note=json.note,
                                      ip=client_ip())
    db.session.commit()
    return ReviewOutcome(id=course.id, status=course.status, published_at=course.published_at)


# --- users and suspensions (admin:manage_users) --------------------------------------------

class UserSearch(CursorQuery):
    q: str = Field("", max_length=200, description="Part of a name or an e-mail address, any case")


class AdminUser(ApiModel):
    id: int
    email: str
    display_name: str
    created_at: Time
    permissions: list[str] = Field(description="Admin permissions; empty for everyone but admins")
    suspended: bool
    suspended_until: Time | None = Field(description="Null while suspended with no end, or when not suspended")
    suspension_reason: str | None
    deletion_requested_at: Time | None
    can_suspend: bool = Field(description="Whether you may suspend or reinstate this account")


class AdminUserList(Page):
    items: list[AdminUser]


class SuspensionRequest(ApiModel):
    reason: str = Field(max_length=2000, description="The user sees it")
    until: date | None = Field(None, description="The last day of the suspension (UTC); null: until reinstated")


def _admin_user(user) -> AdminUser:
    suspended = user.is_suspended()
    return AdminUser(
        id=user.id, email=user.email, display_name=user.display_name, created_at=user.created_at,
        permissions=sorted(user.permissions), suspended=suspended,
        suspended_until=user.suspended_until if suspended else None,
        suspension_reason=user.suspension_reason if suspended else None,
        deletion_requested_at=user.deletion_requested_at,
        can_suspend=can_suspend_user(g.api_grant.user, user))


def _user(user_id: int):
    user = get_user(user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@bp.get("/admin/users")
@operation(tags=[USERS_TAG], scope="admin:manage_users", query=UserSearch, model=AdminUserList)
def user_list(query: UserSearch):
    """Search users

    By name or e-mail, the newest first, as the admin users page searches."""
    found = search_users_after(query.q, after=keyset_position(query.cursor, "users"), limit=query.limit + 1)
    users, cursor = keyset_page(found, query.limit, "users", lambda user: (user.created_at, user.id))
    return AdminUserList(items=[_admin_user(user) for user in users], next_cursor=cursor)


@bp.get("/admin/users/<int:user_id>")
@operation(tags=[USERS_TAG], scope="admin:manage_users", model=AdminUser, not_found=True)
def user_detail(user_id: int):
    """A user, as an admin sees them"""
    return _admin_user(_user(user_id))


@bp.post("/admin/users/<int:user_id>/suspend")
@operation(tags=[USERS_TAG], scope="admin:manage_users", json=SuspensionRequest, model=AdminUser,
           not_found=True)
def user_suspend(user_id: int, json: SuspensionRequest):
    """Suspend a user

    Ends their sessions and stops their tokens at once. Yourself, or a superuser unless you
    are one, is a 403."""
    user = _user(user_id)
    suspensions.suspend_user(g.api_grant.user, user, reason=json.reason,
                             until=suspensions.until_end_of(json.until) if json.until else None,
                             ip=client_ip())
    db.session.commit()
    return _admin_user(user)


@bp.post("/admin/users/<int:user_id>/unsuspend")
@operation(tags=[USERS_TAG], scope="admin:manage_users", model=AdminUser, not_found=True)
def user_unsuspend(user_id: int):
    """Reinstate a suspended user

    Reinstating someone who is not suspended changes nothing."""
    user = _user(user_id)
    suspensions.unsuspend_user(g.api_grant.user, user, ip=client_ip())
    db.session.commit()
    return _admin_user(user)


# --- moderation (admin:moderate) -------------------------------------------------------------

class ReportReason(ApiModel):
    reason: str
    reported_at: Time


class ContextMessage(ApiModel):
    id: int
    author: Person | None = Field(description="Null when the account no longer exists")
    body: str | None = Field(description="Null when the message was deleted")
    created_at: Time
    reported: bool = Field(description="Whether this is the reported message")


class ReportedContent(ApiModel):
    exists: bool = Field(description="False when the reported thing no longer exists")
    deleted: bool
    author: Person | None
    body: str | None = Field(description="The reported post or review (Markdown for a post)")
    rating: int | None = Field(description="A review's stars")
    course_id: int | None
    course_title: str | None
    thread_title: str | None
    recipient: Person | None = Field(description="A direct message's recipient")
    around: list[ContextMessage] = Field(description="A chat or direct message with its neighbours, oldest first")


class ModerationItem(ApiModel):
    target_type: ReportTarget
    target_id: int
    label: str = Field(description="What was reported, in words: “a chat message in “Python””")
    reporter_count: int
    first_reported_at: Time | None
    reports: list[ReportReason]
    content: ReportedContent
    actions: list[ModerationAction] = Field(description="The actions you may take on it")


class ModerationQueue(Page):
    items: list[ModerationItem]


class ModerationRequest(ApiModel):
    action: ModerationAction = Field(description="; ".join(f"`{key}`: {label}"
                                                           for key, label in decisions.ACTION_LABELS.items()))
    reason: str = Field(description="Kept in the audit log; reporters only see the outcome")
    minutes: int | None = Field(None, description=f"Mute (required), ban or suspend for this long, 1 to "
                                                  f"{decisions.MINUTES_MAX}; null for no end")


class ModerationOutcome(ApiModel):
    target_type: ReportTarget
    target_id: int
    action: ModerationAction
    status: str = Field(description="`dismissed` or `resolved`")
    outcome: str = Field(description="What the reporters are told")
    reports: int = Field(description="How many open reports this closed")


def _message(item, message) -> ContextMessage:
    author = message.author if item.target_type == "chat_message" else message.sender
    return ContextMessage(id=message.id, author=person(author),
                          body=None if message.deleted_at else message.body, created_at=message.created_at,
                          reported=message.id == item.target_id)


def _content(item) -> ReportedContent:
    ctx = item.context
    content = ctx.content
    shows_body = item.target_type in ("discussion_post", "review") and content is not None
    return ReportedContent(
        exists=not ctx.missing, deleted=ctx.deleted, author=person(ctx.author),
        body=content.body if shows_body else None,
        rating=content.rating if item.target_type == "review" and content is not None else None,
        course_id=ctx.course.id if ctx.course else None, course_title=ctx.course.title if ctx.course else None,
        thread_title=ctx.thread.title if ctx.thread else None,
        recipient=person(ctx.parties[1]) if len(ctx.parties) > 1 else None,
        around=[_message(item, message) for message in ctx.around if message is not None])


def _moderation_item(item) -> ModerationItem:
    return ModerationItem(
        target_type=item.target_type, target_id=item.target_id, label=item.context.label,
        reporter_count=item.reporter_count, first_reported_at=item.first_reported_at,
        reports=[ReportReason(reason=report.reason, reported_at=report.created_at) for report in item.reports],
        content=_content(item), actions=decisions.actions_for(g.api_grant.user, item.target_type))


@bp.get("/admin/moderation")
@operation(tags=[MODERATION_TAG], scope="admin:moderate", query=CursorQuery, model=ModerationQueue)
def moderation_list(query: CursorQuery):
    """Reported content

    Open reports grouped by what they are about, the longest-waiting first, each with the
    context a decision needs."""
    found = queue.moderation_queue_after(g.api_grant.user, after=keyset_position(query.cursor, "moderation"),
                                         limit=query.limit + 1)
    items, cursor = keyset_page(found, query.limit, "moderation",
                                lambda item: (item.first_reported_at, item.target_type, item.target_id))
    return ModerationQueue(items=[_moderation_item(item) for item in items], next_cursor=cursor)


@bp.post("/admin/moderation/<target_type>/<int:target_id>")
@operation(tags=[MODERATION_TAG], scope="admin:moderate", json=ModerationRequest, model=ModerationOutcome,
           not_found=True, conflict=True)
def moderation_resolve(target_type: str, target_id: int, json: ModerationRequest):
    """Decide on reported content

    One decision closes every open report about it and tells each reporter the outcome.
    `suspend` needs the `manage_users` permission too; `mute` and `ban` are for chat messages."""
    decision = decisions.resolve(g.api_grant.user, target_type, target_id, action=json.action.value,
                                 reason=json.reason, minutes=json.minutes, ip=client_ip())
    db.session.commit()
    return ModerationOutcome(target_type=decision.target_type, target_id=decision.target_id,
                             action=decision.action, status=decision.status, outcome=decision.outcome,
                             reports=decision.reports)
