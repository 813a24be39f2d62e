"""Users' reports of what others wrote (app/moderation/reports.py): the target must exist,
be visible to the reporter and be someone else's."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from app.errors import Invalid, NotAllowed, NotFound
from app.messaging.models import ChatSanction
from app.moderation.models import REPORT_TARGETS, Report
from app.moderation.reports import load_target, open_reports, report_content
from app.moderation.suspensions import suspend_user
from tests.support.moderation import chat_line, course_review, dm_line, forum_post, member


def report_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report))


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Python Basics", status="published")


@pytest.fixture
def author(make_user, course):
    """Someone enrolled in the course who writes things others report."""
    user = make_user(display_name="Rude Ruth")
    member(user, course)
    return user


@pytest.fixture
def targets(course, author, learner):
    """One of each kind by `author`, all visible to `learner` (enrolled, in the DM)."""
    member(learner, course)
    return {"chat_message": chat_line(course, author, "rude").id,
            "direct_message": dm_line(author, learner, "rude dm").id,
            "discussion_post": forum_post(course, author, body="rude post").id,
            "review": course_review(course, author, rating=1, body="rude review").id}


def test_a_report_is_stored_open(db, learner, targets):
    entry = report_content(learner, "review", targets["review"], reason="Fake review")
    db.session.commit()
    assert (entry.reporter_id, entry.target_type, entry.target_id) == (learner.id, "review", targets["review"])
    assert entry.status == "open" and entry.reason == "Fake review"
    assert [r.id for r in open_reports()] == [entry.id]


def test_the_reason_is_tidied(db, learner, targets):
    assert report_content(learner, "review", targets["review"], reason="  spam \n\n spam  ").reason == "spam spam"


@pytest.mark.parametrize("reason", ["", "   \n", None, "x" * 2001])
def test_a_report_needs_a_sensible_reason(db, learner, targets, reason):
    with pytest.raises(Invalid) as exc:
        report_content(learner, "review", targets["review"], reason=reason)
    assert exc.value.field == "reason"
    assert report_count(db) == 0


@pytest.mark.parametrize("target_type", ["user", "course", "", "Review"])
def test_only_known_targets_can_be_reported(db, learner, target_type):
    with pytest.raises(Invalid):
        report_content(learner, target_type, 7, reason="Bad")
    assert report_count(db) == 0


@pytest.mark.parametrize("target_type", REPORT_TARGETS)
def test_every_known_target_can_be_reported(db, learner, targets, target_type):
    assert report_content(learner, target_type, targets[target_type], reason="Bad").target_type == target_type


@pytest.mark.parametrize("target_type", REPORT_TARGETS)
@pytest.mark.parametrize("target_id", [999999, 0, -1, 2**40, 2**70])
def test_reporting_what_does_not_exist_is_not_found(db, learner, target_type, target_id):
    with pytest.raises(NotFound):
        report_content(learner, target_type, target_id, reason="Bad")
    assert report_count(db) == 0


@pytest.mark.parametrize("target_type", REPORT_TARGETS)
def test_nobody_reports_their_own_words(db, author, targets, target_type):
    with pytest.raises(Invalid, match="your own"):
        report_content(author, target_type, targets[target_type], reason="Oops")
    assert report_count(db) == 0


def test_a_dm_is_reported_only_from_inside_its_conversation(db, targets, make_user):
    outsider = make_user()
    with pytest.raises(NotAllowed):
        report_content(outsider, "direct_message", targets["direct_message"], reason="Rude")
    assert report_count(db) == 0


def test_a_chat_message_is_reported_only_by_room_members(db, targets, make_user, course, creator,
                                                         make_course):
    stranger = make_user()
    with pytest.raises(NotAllowed):
        report_content(stranger, "chat_message", targets["chat_message"], reason="Rude")
    # The room's creator and the platform's moderators may.
    assert report_content(creator, "chat_message", targets["chat_message"], reason="Rude")
    moderator = make_user(permissions=("moderate",))
    assert report_content(moderator, "chat_message", targets["chat_message"], reason="Rude")
    assert report_count(db) == 2


def test_someone_banned_from_the_room_cannot_report_in_it(db, learner, targets, course, creator, admin):
    db.session.add(ChatSanction(course_id=course.id, user_id=learner.id, kind="ban", reason="x",
                                created_by_id=admin.id))
    db.session.commit()
    with pytest.raises(NotAllowed):
        report_content(learner, "chat_message", targets["chat_message"], reason="Rude")


def test_a_discussion_post_is_reported_only_by_members_of_the_course(db, targets, make_user):
    with pytest.raises(NotAllowed):
        report_content(make_user(), "discussion_post", targets["discussion_post"], reason="Rude")


@pytest.mark.parametrize("target_type", ["chat_message", "direct_message", "discussion_post"])
def test_deleted_messages_and_posts_cannot_be_reported(db, learner, targets, target_type):
    load_target(target_type, targets[target_type]).deleted_at = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.commit()
    with pytest.raises(NotFound):
        report_content(learner, target_type, targets[target_type], reason="Rude")


def test_reporting_twice_stores_one_report(db, learner, targets):
    first = report_content(learner, "discussion_post", targets["discussion_post"], reason="Rude")
    second = report_content(learner, "discussion_post", targets["discussion_post"], reason="Very rude")
    db.session.commit()
    assert second.id == first.id and second.reason == "Rude"
    assert report_count(db) == 1


def test_each_reporter_and_target_counts_separately(db, learner, creator, targets):
    report_content(learner, "discussion_post", targets["discussion_post"], reason="Rude")
    report_content(creator, "discussion_post", targets["discussion_post"], reason="Rude")
    report_content(learner, "review", targets["review"], reason="Rude")
    report_content(creator, "review", targets["review"], reason="Rude")
    db.session.commit()
    assert report_count(db) == 4


@pytest.mark.parametrize("who", ["anonymous", "nobody", "suspended"])
def test_only_signed_in_active_users_report(db, make_user, admin, targets, who):
    if who == "suspended":
        actor = make_user(password=None)
        suspend_user(admin, actor, reason="abuse")
    else:
        actor = AnonymousUserMixin() if who == "anonymous" else None
    with pytest.raises(NotAllowed):
        report_content(actor, "review", targets["review"], reason="Bad")
    assert report_count(db) == 0


def test_the_queue_lists_open_reports_oldest_first(db, learner, creator, make_user, course):
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    writer = make_user()
    member(writer, course)
    member(learner, course)
    one, two, three = (chat_line(course, writer, f"m{n}").id for n in range(3))
    late = report_content(learner, "chat_message", one, reason="Late")
    early = report_content(creator, "chat_message", two, reason="Early")
    closed = report_content(creator, "chat_message", three, reason="Handled")
    late.created_at, early.created_at = t0 + timedelta(hours=1), t0
    closed.status = "resolved"
    db.session.commit()
    assert [r.id for r in open_reports()] == [early.id, late.id]
