"""Acting on reports (app/moderation/decisions.py): each action through the owning service,
every open report of the target closed, an audit row with the reason, each reporter told
the outcome (never who decided), deciding twice refused, bad input a clear error."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.dbtypes import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.learning import reviews
from app.learning.models import CourseStats, Post, Review
from app.messaging.models import ChatMessage, ChatSanction, DirectMessage, Notification
from app.messaging.notifications import describe
from app.moderation.decisions import actions_for, clean_minutes, duration, resolve
from app.moderation.models import AuditLog, Report
from tests.support.moderation import chat_line, course_review, dm_line, forum_post, member, reported


@pytest.fixture
def chief(make_user):
    """A moderator who may also manage users (and so suspend)."""
    return make_user(email="chief@example.test", display_name="Cora Chief",
                     permissions=("moderate", "manage_users"))


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Python Basics", status="published")


@pytest.fixture
def troll(make_user, course):
    user = make_user(email="troll@example.test", display_name="Tom Troll")
    member(user, course)
    return user


@pytest.fixture
def reporters(make_user):
    return [make_user(display_name=f"Reporter {n}") for n in range(2)]


@pytest.fixture
def line(course, troll, reporters):
    """Tom's chat message, reported by two people."""
    message = chat_line(course, troll, "you are all idiots")
    for who in reporters:
        reported(who, "chat_message", message.id, f"{who.display_name} says rude")
    return message


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def reports_of(target_type, target_id) -> list[Report]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Report).where(
        Report.target_type == target_type, Report.target_id == target_id).order_by(Report.id)))


def closed_notes(user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == "moderation.report_closed")))


def audits(action) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


# --- each action ----------------------------------------------------------------------------

def test_dismissing_keeps_the_content_and_closes_every_report(moderator, line, reporters):
    decision = resolve(moderator, "chat_message", line.id, action="dismiss", reason="Banter between friends",
                       ip="10.0.0.1")
    db.session.commit()
    assert decision.status == "dismissed" and decision.reports == 2
    assert fresh(ChatMessage, line.id).deleted_at is None
    rows = reports_of("chat_message", line.id)
    assert {r.status for r in rows} == {"dismissed"}
    assert all(r.resolved_by_id == moderator.id and r.resolved_at and r.outcome == decision.outcome
               for r in rows)
    (entry,) = audits("moderation.dismiss")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "chat_message", line.id)
    assert entry.reason == "Banter between friends" and entry.ip == "10.0.0.1"
    assert entry.before["body"] == "you are all idiots" and len(entry.before["reports"]) == 2
    assert entry.target_label == "a chat message in “Python Basics”"


def test_every_reporter_is_told_the_outcome_without_the_moderator(moderator, line, reporters, troll):
    resolve(moderator, "chat_message", line.id, action="delete", reason="Insults")
    db.session.commit()
    for who in reporters:
        (note,) = closed_notes(who)
        sentence, _ = describe(note)
        assert note.data["target"] == "a chat message in “Python Basics”"
        assert "removed" in note.data["outcome"]
        assert "Moe" not in sentence and "moderator@" not in sentence
        assert str(moderator.id) not in {str(v) for v in note.data.values()}
    assert closed_notes(troll) == []


def test_deleting_a_chat_message_goes_through_the_chat_service(moderator, line):
    resolve(moderator, "chat_message", line.id, action="delete", reason="Insults")
    db.session.commit()
    message = fresh(ChatMessage, line.id)
    assert message.deleted_at is not None and message.deleted_by_id == moderator.id
    assert {r.status for r in reports_of("chat_message", line.id)} == {"resolved"}
    assert len(audits("moderation.delete")) == 1


def test_deleting_a_direct_message(moderator, learner, make_user):
    pest = make_user(display_name="Pete Pest")
    message = dm_line(pest, learner, "send me money")
    reported(learner, "direct_message", message.id, "Scam")
    resolve(moderator, "direct_message", message.id, action="delete", reason="Scam attempt")
    db.session.commit()
    assert fresh(DirectMessage, message.id).deleted_at is not None
    (note,) = closed_notes(learner)
    assert note.data == {"target": "a direct message", "outcome": "the message was removed"}


def test_deleting_a_discussion_post(moderator, course, troll, learner):
    post = forum_post(course, troll, body="Spam spam spam")
    reported(learner, "discussion_post", post.id, "Spam")
    resolve(moderator, "discussion_post", post.id, action="delete", reason="Advertising")
    db.session.commit()
    assert fresh(Post, post.id).deleted_at is not None
    assert closed_notes(learner)[0].data["outcome"] == "the post was removed"


def test_deleting_a_review_takes_its_rating_out_of_the_aggregates(moderator, course, troll, learner):
    review = course_review(course, troll, rating=1, body="Scam! Buy my course instead")
    assert fresh(CourseStats, course.id).rating_count == 1
    reported(learner, "review", review.id, "Advertising")
    resolve(moderator, "review", review.id, action="delete", reason="Advertising in a review")
    db.session.commit()
    assert fresh(Review, review.id) is None
    stats = fresh(CourseStats, course.id)
    assert (stats.rating_count, stats.rating_sum, stats.rating_1) == (0, 0, 0)
    (entry,) = audits("moderation.delete")
    assert entry.before["body"] == "Scam! Buy my course instead" and entry.before["rating"] == 1
    assert entry.target_label == "a review of “Python Basics”"


def test_muting_the_author_for_a_while(moderator, line, troll, course):
    now = utcnow()
    decision = resolve(moderator, "chat_message", line.id, action="mute", reason="Cool down", minutes="90",
                       now=now)
    db.session.commit()
    (sanction,) = db.session.scalars(sa.select(ChatSanction).where(ChatSanction.user_id == troll.id))
    assert (sanction.kind, sanction.course_id, sanction.created_by_id) == ("mute", course.id, moderator.id)
    assert abs(sanction.until - (now + timedelta(minutes=90))) < timedelta(seconds=1)
    assert fresh(ChatMessage, line.id).deleted_at is None
    assert "1 hour" not in decision.outcome and "90 minutes" in decision.outcome


@pytest.mark.parametrize("minutes, until", [("", None), (None, None), ("2880", timedelta(days=2))])
def test_banning_from_the_room_for_a_while_or_for_good(moderator, line, troll, minutes, until):
    now = utcnow()
    decision = resolve(moderator, "chat_message", line.id, action="ban", reason="Repeated abuse",
                       minutes=minutes, now=now)
    db.session.commit()
    (sanction,) = db.session.scalars(sa.select(ChatSanction).where(ChatSanction.user_id == troll.id))
    assert sanction.kind == "ban"
    if until is None:
        assert sanction.until is None and decision.outcome == "its author is banned from the room"
    else:
        assert abs(sanction.until - (now + until)) < timedelta(seconds=1)
        assert decision.outcome.endswith("for 2 days")


def test_suspending_the_author_needs_manage_users(chief, line, troll):
    resolve(chief, "chat_message", line.id, action="suspend", reason="Threats", minutes="1440")
    db.session.commit()
    db.session.refresh(troll)
    assert troll.is_suspended() and troll.suspension_reason == "Threats"
    assert troll.suspended_until is not None
    assert len(audits("user.suspended")) == 1 and len(audits("moderation.suspend")) == 1
    assert {r.status for r in reports_of("chat_message", line.id)} == {"resolved"}


def test_a_moderator_without_manage_users_cannot_suspend(moderator, line, troll, reporters):
    assert "suspend" not in actions_for(moderator, "chat_message")
    with pytest.raises(NotAllowed):
        resolve(moderator, "chat_message", line.id, action="suspend", reason="Threats")
    db.session.rollback()
    db.session.refresh(troll)
    assert not troll.is_suspended()
    assert {r.status for r in reports_of("chat_message", line.id)} == {"open"}
    assert closed_notes(reporters[0]) == [] and audits("moderation.suspend") == []


def test_actions_offered_follow_the_target_and_the_permission(moderator, chief):
    assert actions_for(moderator, "chat_message") == ["dismiss", "delete", "mute", "ban"]
    assert actions_for(moderator, "review") == ["dismiss", "delete"]
    assert actions_for(chief, "direct_message") == ["dismiss", "delete", "suspend"]


# --- who may decide -------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["creator", "troll", "reviewer", "user_admin"])
def test_only_moderators_decide(request, who, line):
    actor = request.getfixturevalue(who)
    for action in ("dismiss", "delete", "mute"):
        with pytest.raises(NotAllowed):
            resolve(actor, "chat_message", line.id, action=action, reason="x", minutes="5")
    db.session.rollback()
    assert fresh(ChatMessage, line.id).deleted_at is None
    assert {r.status for r in reports_of("chat_message", line.id)} == {"open"}


# --- twice, and unknown targets -------------------------------------------------------------

def test_deciding_twice_is_a_conflict_and_notifies_nobody_again(moderator, line, reporters):
    resolve(moderator, "chat_message", line.id, action="dismiss", reason="Fine")
    db.session.commit()
    with pytest.raises(Conflict, match="already handled"):
        resolve(moderator, "chat_message", line.id, action="delete", reason="Changed my mind")
    db.session.rollback()
    assert len(closed_notes(reporters[0])) == 1 and len(closed_notes(reporters[1])) == 1
    assert fresh(ChatMessage, line.id).deleted_at is None
    assert len(audits("moderation.dismiss")) == 1 and audits("moderation.delete") == []


def test_a_new_report_after_a_decision_opens_the_target_again(moderator, line, make_user):
    resolve(moderator, "chat_message", line.id, action="dismiss", reason="Fine")
    late = make_user()
    reported(late, "chat_message", line.id, "Still rude")
    decision = resolve(moderator, "chat_message", line.id, action="delete", reason="On second look")
    assert decision.reports == 1 and len(closed_notes(late)) == 1


@pytest.mark.parametrize("target_type, target_id, error", [
    ("review", 424242, NotFound), ("chat_message", 0, NotFound), ("chat_message", -1, NotFound),
    ("chat_message", 2**40, NotFound), ("user", 1, NotFound), ("", 1, NotFound)])
def test_forged_targets_are_not_found(moderator, target_type, target_id, error):
    with pytest.raises(error):
        resolve(moderator, target_type, target_id, action="dismiss", reason="x")


def test_a_report_whose_target_vanished_can_still_be_closed(moderator, learner):
    reported(learner, "chat_message", 777777, "Gone already")
    decision = resolve(moderator, "chat_message", 777777, action="delete", reason="Already gone")
    assert decision.status == "resolved" and closed_notes(learner)[0].data["target"] == "a chat message"


def test_reporters_whose_accounts_are_gone_are_skipped(moderator, line):
    db.session.execute(sa.update(Report).values(reporter_id=None))
    decision = resolve(moderator, "chat_message", line.id, action="dismiss", reason="Fine")
    assert decision.reports == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.kind == "moderation.report_closed")) == 0


def test_muting_an_author_whose_account_is_gone_is_refused(moderator, course, learner):
    orphan = chat_line(course, None, "orphan")
    reported(learner, "chat_message", orphan.id)
    with pytest.raises(Invalid) as exc:
        resolve(moderator, "chat_message", orphan.id, action="mute", reason="x", minutes="5")
    assert exc.value.field == "action"


def test_the_room_rules_still_apply_a_creator_cannot_be_muted(moderator, course, creator, learner):
    message = chat_line(course, creator, "a creator's message")
    reported(learner, "chat_message", message.id)
    with pytest.raises(Invalid):
        resolve(moderator, "chat_message", message.id, action="mute", reason="x", minutes="5")


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"action": "explode", "reason": "x"}, "action"),
    ({"action": "", "reason": "x"}, "action"),
    ({"action": "DELETE", "reason": "x"}, "action"),
    ({"action": "dismiss", "reason": ""}, "reason"),
    ({"action": "dismiss", "reason": "   \n "}, "reason"),
    ({"action": "dismiss", "reason": "x" * 2001}, "reason"),
    ({"action": "mute", "reason": "x"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": ""}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "-5"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": -5}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "0"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "abc"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "1.5"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "1e9"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "99999999999999999999999"}, "minutes"),
    ({"action": "mute", "reason": "x", "minutes": "9" * 5000}, "minutes"),
    ({"action": "ban", "reason": "x", "minutes": "-1"}, "minutes"),
    ({"action": "ban", "reason": "x", "minutes": True}, "minutes"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(moderator, line, reporters, kwargs, field):
    with pytest.raises(Invalid) as exc:
        resolve(moderator, "chat_message", line.id, **kwargs)
    assert exc.value.field == field and exc.value.message
    db.session.rollback()
    assert {r.status for r in reports_of("chat_message", line.id)} == {"open"}
    assert closed_notes(reporters[0]) == []


@pytest.mark.parametrize("action", ["mute", "ban"])
def test_mute_and_ban_are_for_chat_messages_only(moderator, learner, make_user, action):
    message = dm_line(make_user(), learner, "hi")
    reported(learner, "direct_message", message.id)
    with pytest.raises(Invalid) as exc:
        resolve(moderator, "direct_message", message.id, action=action, reason="x", minutes="5")
    assert exc.value.field == "action"


def test_minutes_and_durations():
    assert clean_minutes(" 15 ", required=True) == 15 and clean_minutes("", required=False) is None
    assert [duration(m) for m in (1, 45, 60, 90, 1440, 4320)] == [
        "1 minute", "45 minutes", "1 hour", "90 minutes", "1 day", "3 days"]


def test_only_moderators_remove_reviews_even_outside_the_queue(course, troll, creator, learner):
    review = course_review(course, troll, rating=2, body="meh")
    for actor in (creator, learner, troll):
        with pytest.raises(NotAllowed):
            reviews.moderator_delete_review(actor, review)
    assert fresh(Review, review.id) is not None
