"""Course chat rooms (app/messaging/chat.py and chat_moderation.py): membership, messages, moderation,
cut-offs."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.errors import Invalid, NotAllowed, NotFound, TooFast
from app.learning.enrollment import enroll, revoke
from app.learning.queries import active_enrollment
from app.messaging import channels, chat, chat_moderation, presence
from app.messaging.bus import bus
from app.messaging.models import ChatMessage, Notification
from app.moderation.models import AuditLog, Report
from app.moderation.reports import report_chat_message
from app.moderation.suspensions import suspend_user

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(db, creator, make_course):
    return make_course(creator, title="Practical SQL", status="published")


@pytest.fixture
def member(db, learner, course):
    enroll(learner, course)
    db.session.commit()
    return learner


@pytest.fixture
def classmate(db, make_user, course):
    user = make_user(display_name="Cleo Classmate")
    enroll(user, course)
    db.session.commit()
    return user


@pytest.fixture
def moderator(make_user):
    return make_user(display_name="Moe Moderator", permissions=("moderate",))


def post(actor, course, body="Hello", **kw):
    message = chat.post_message(actor, course, body, **kw)
    chat.db.session.commit()
    return message


def notes(user, kind):
    return list(chat.db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind)))


# --- membership ----------------------------------------------------------------------------

def test_learners_the_creator_and_moderators_are_members(db, creator, member, moderator, course):
    for actor in (creator, member, moderator):
        assert chat.access_room(actor, course.id) == course
        assert post(actor, course, f"hi from {actor.display_name}").author_id == actor.id


def test_strangers_are_refused_and_unknown_rooms_are_404(db, make_user, course):
    stranger = make_user()
    with pytest.raises(NotAllowed):
        chat.access_room(stranger, course.id)
    with pytest.raises(NotAllowed):
        chat.post_message(stranger, course, "let me in")
    with pytest.raises(NotFound):
        chat.access_room(stranger, 999_999)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_a_refunded_learner_is_refused_at_the_next_message(db, admin, member, course):
    post(member, course)
    _revoke(admin, member, course)
    db.session.commit()
    with pytest.raises(NotAllowed):
        chat.post_message(member, course, "still here?")


def _revoke(admin, user, course):
    revoke(active_enrollment(user, course), reason="refund", actor=admin)


def test_a_suspended_learner_is_refused(db, admin, member, course):
    suspend_user(admin, member, reason="spam")
    db.session.commit()
    with pytest.raises(NotAllowed):
        chat.post_message(member, course, "hello?")


def test_refund_publishes_member_removed_on_the_room(app, db, admin, member, course):
    sub = bus().subscribe([channels.course_chat(course.id)])
    try:
        _revoke(admin, member, course)
        db.session.commit()
        event = sub.get(timeout=2)
    finally:
        sub.close()
    assert event == {"type": "member.removed", "user_id": member.id}


def test_suspension_publishes_session_end_on_the_users_channel(app, db, admin, member):
    sub = bus().subscribe([channels.user_notify(member.id)])
    try:
        suspend_user(admin, member, reason="spam")
        db.session.commit()
        events = [sub.get(timeout=2) for _ in range(3)]
    finally:
        sub.close()
    assert {"type": "session.end"} in events


# --- messages ------------------------------------------------------------------------------

def test_a_message_is_stored_then_published_with_what_a_socket_needs(app, db, member, course):
    sub = bus().subscribe([channels.course_chat(course.id)])
    try:
        message = chat.post_message(member, course, "See <script>x</script> https://example.com")
        assert sub.get(timeout=0.2) is None  # not before the commit
        db.session.commit()
        event = sub.get(timeout=2)
    finally:
        sub.close()
    assert event["type"] == "chat.message.created" and event["id"] == message.id
    assert event["author_id"] == member.id and event["author_name"] == "Lena Learner"
    assert "<script" not in event["body_html"] and 'href="https://example.com"' in event["body_html"]
    assert event["edited"] is False and event["deleted"] is False


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_empty_and_too_long_messages_are_refused(db, member, course, body):
    with pytest.raises(Invalid) as err:
        chat.post_message(member, course, body)
    assert err.value.field == "body"


def test_history_is_the_newest_fifty_oldest_first_with_load_earlier(db, member, course):
    ids = [post(member, course, f"m{n}").id for n in range(55)]
    page = chat.history(member, course)
    assert [m.id for m in page.messages] == ids[5:] and page.has_earlier
    earlier = chat.history(member, course, before_id=page.first_id)
    assert [m.id for m in earlier.messages] == ids[:5] and not earlier.has_earlier


def test_messages_after_returns_exactly_the_missed_ones(db, member, course):
    ids = [post(member, course, f"m{n}").id for n in range(5)]
    assert [m.id for m in chat.messages_after(member, course, ids[1])] == ids[2:]


def test_flooding_is_rate_limited(app, db, member, course, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_COUNT", 3)
    # One window for the whole test: windows are aligned to the clock, and a test that
    # straddled two (a busy machine) would see its count start again.
    monkeypatch.setitem(app.config, "MESSAGE_RATE_SECONDS", 10**9)
    for n in range(3):
        post(member, course, f"m{n}")
    with pytest.raises(TooFast) as err:
        chat.post_message(member, course, "one too many")
    assert err.value.retry_after >= 1


def test_slow_mode_makes_members_wait_but_not_moderators(db, moderator, creator, member, course):
    chat_moderation.set_slow_mode(moderator, course, 30)
    db.session.commit()
    post(member, course, "first", now=T0)
    with pytest.raises(TooFast) as err:
        chat.post_message(member, course, "second", now=T0 + timedelta(seconds=10))
    assert err.value.retry_after == 20 and "Slow mode" in err.value.message
    post(member, course, "later", now=T0 + timedelta(seconds=31))
    post(creator, course, "a", now=T0)
    post(creator, course, "b", now=T0 + timedelta(seconds=1))  # the creator moderates the room


def test_only_moderators_set_slow_mode_and_it_is_audited(db, creator, moderator, course):
    with pytest.raises(NotAllowed):
        chat_moderation.set_slow_mode(creator, course, 10)
    with pytest.raises(Invalid):
        chat_moderation.set_slow_mode(moderator, course, "soon")
    chat_moderation.set_slow_mode(moderator, course, 10)
    db.session.commit()
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.actor_id == moderator.id)) \
        == "chat.room.slow_mode"


def test_mentions_notify_members_by_name_without_spaces(db, member, classmate, creator, make_user, course):
    outsider = make_user(display_name="Otto Outsider")
    post(member, course, "@CleoClassmate and @carl-creator, see this (not @OttoOutsider, not @LenaLearner)")
    assert [n.data["preview"][:14] for n in notes(classmate, "chat.mention")] == ["@CleoClassmate"]
    assert len(notes(creator, "chat.mention")) == 1
    assert notes(outsider, "chat.mention") == [] and notes(member, "chat.mention") == []
    assert notes(classmate, "chat.mention")[0].data["course_id"] == course.id


# --- edit and delete ---------------------------------------------------------------------

def test_only_the_author_edits_and_it_shows_edited(db, member, classmate, moderator, course):
    message = post(member, course, "typo")
    for other in (classmate, moderator):
        with pytest.raises(NotAllowed):
            chat.edit_message(other, message.id, "hacked")
    chat.edit_message(member, message.id, "fixed")
    db.session.commit()
    assert message.body == "fixed" and chat.message_event(message, "edited")["edited"] is True


def test_authors_delete_their_own_and_others_cannot(db, member, classmate, course):
    message = post(member, course)
    with pytest.raises(NotAllowed):
        chat.delete_message(classmate, message.id)
    chat.delete_message(member, message.id)
    db.session.commit()
    assert message.deleted_at is not None
    assert chat.message_event(message, "deleted")["body_html"] == ""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0


def test_a_moderators_deletion_is_audited(db, moderator, member, course):
    message = post(member, course, "rude")
    chat.delete_message(moderator, message.id, reason="rude")
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditLog))
    assert (entry.action, entry.target_id, entry.reason) == ("chat.message.deleted", message.id, "rude")


def test_the_creator_moderates_their_own_room_but_not_others(db, creator, make_user, make_course, member, course):
    other_course = make_course(make_user(), status="published")
    enroll(member, other_course)
    db.session.commit()
    mine, theirs = post(member, course, "a"), post(member, other_course, "b")
    chat.delete_message(creator, mine.id)
    chat_moderation.sanction_user(creator, course, member, kind="mute", minutes=10, reason="calm down")
    with pytest.raises(NotAllowed):
        chat.delete_message(creator, theirs.id)
    with pytest.raises(NotAllowed):
        chat_moderation.sanction_user(creator, other_course, member, kind="mute", minutes=10, reason="")
    with pytest.raises(NotAllowed):
        chat_moderation.sanction_user(creator, course, member, kind="ban", minutes=None, reason="")


# --- mutes and bans ----------------------------------------------------------------------

def test_a_muted_member_reads_but_cannot_post_until_it_ends(db, creator, member, course):
    sanction = chat_moderation.sanction_user(creator, course, member, kind="mute", minutes=10, reason="spam", now=T0)
    db.session.commit()
    assert chat.access_room(member, course.id) == course
    with pytest.raises(NotAllowed) as err:
        chat.post_message(member, course, "hello", now=T0 + timedelta(minutes=5))
    assert "muted" in err.value.message
    post(member, course, "back", now=T0 + timedelta(minutes=11))
    note = notes(member, "chat.sanctioned")[0]
    assert note.data["what"] == "muted" and note.data["reason"] == "spam"
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == member.id)) == "chat.user.muted"
    assert sanction.until == T0 + timedelta(minutes=10)


def test_a_mute_needs_minutes_and_cannot_target_moderators(db, creator, moderator, member, course):
    with pytest.raises(Invalid):
        chat_moderation.sanction_user(creator, course, member, kind="mute", minutes=None, reason="")
    with pytest.raises(Invalid):
        chat_moderation.sanction_user(creator, course, member, kind="mute", minutes="ten", reason="")
    with pytest.raises(Invalid):
        chat_moderation.sanction_user(creator, course, member, kind="gag", minutes=5, reason="")
    with pytest.raises(Invalid):
        chat_moderation.sanction_user(moderator, course, creator, kind="mute", minutes=5, reason="")


def test_a_ban_cuts_off_and_is_published_and_lifting_restores(app, db, moderator, member, course):
    sub = bus().subscribe([channels.course_chat(course.id)])
    try:
        sanction = chat_moderation.sanction_user(moderator, course, member, kind="ban", minutes=None, reason="abuse")
        db.session.commit()
        events = [sub.get(timeout=2) for _ in range(1)]
    finally:
        sub.close()
    assert events[0] == {"type": "chat.user.sanctioned", "user_id": member.id, "kind": "ban", "until": None}
    with pytest.raises(NotAllowed) as err:
        chat.access_room(member, course.id)
    assert "banned" in err.value.message
    chat_moderation.lift_sanction(moderator, sanction.id)
    db.session.commit()
    assert chat.access_room(member, course.id) == course


def test_only_moderators_lift_bans(db, creator, moderator, member, course):
    ban = chat_moderation.sanction_user(moderator, course, member, kind="ban", minutes=60, reason="")
    db.session.commit()
    with pytest.raises(NotAllowed):
        chat_moderation.lift_sanction(creator, ban.id)
    with pytest.raises(NotFound):
        chat_moderation.lift_sanction(moderator, 999_999)


def test_reporting_a_message(db, member, classmate, course):
    message = post(member, course, "rude")
    entry = report_chat_message(classmate, course, message.id, reason="rude")
    db.session.commit()
    assert (entry.target_type, entry.target_id) == ("chat_message", message.id)
    with pytest.raises(Invalid):
        report_chat_message(classmate, course, message.id, reason=" ")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_presence_counts_a_user_once_while_any_socket_is_fresh(app, db, member, course):

    assert presence.touch(course.id, member.id, "a", now=1000) is True  # came online
    assert presence.touch(course.id, member.id, "b", now=1001) is False  # a second tab
    assert presence.online_user_ids(course.id, now=1010) == {member.id}
    assert presence.online_members(course.id, now=1010) == [(member.id, "Lena Learner")]
    assert presence.leave(course.id, member.id, "a", now=1010) is False  # still there in "b"
    assert presence.leave(course.id, member.id, "b", now=1010) is True
    presence.touch(course.id, member.id, "c", now=1000)
    assert presence.online_user_ids(course.id, now=1000 + presence.ONLINE_SECONDS + 1) == set()
