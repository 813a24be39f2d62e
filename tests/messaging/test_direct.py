"""Direct messages, the service: pairs, blocks, unread counts, receipts, keyset pages,
moderator removal, and what is published after commit."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.dbtypes import utcnow
from app.errors import Invalid, NotAllowed, NotFound, TooFast
from app.extensions import db
from app.messaging import bus, channels, direct
from app.messaging.models import Conversation, DirectMessage, Notification
from app.moderation.models import AuditLog, Report
from app.moderation.reports import report_direct_message


@pytest.fixture
def bob(make_user):
    return make_user(email="bob@example.test", display_name="Bob Buddy")


@pytest.fixture
def published(monkeypatch):
    """(channel, event) pairs sent to Redis after commit."""
    sent: list[tuple[str, dict]] = []

    real = bus.publish_now

    def capture(channel, event):
        sent.append((channel, json.loads(json.dumps(event))))
        return real(channel, event)

    monkeypatch.setattr(bus, "publish_now", capture)
    return sent


def talk(a, b):
    conversation = direct.conversation_with(a, b)
    db.session.commit()
    return conversation


def say(a, conversation, body="Hello", **kw):
    msg = direct.send_direct_message(a, conversation, body, **kw)
    db.session.commit()
    return msg


def test_a_pair_has_one_conversation_stored_lower_id_first(learner, bob):
    first = talk(bob, learner)
    again = talk(learner, bob)
    assert first.id == again.id
    assert (first.user_low_id, first.user_high_id) == tuple(sorted((learner.id, bob.id)))
    assert db.session.query(Conversation).count() == 1


def test_a_conversation_made_concurrently_is_reused(learner, bob, monkeypatch):
    """The second writer loses the unique race and gets the winner's row."""
    low, high = sorted((learner.id, bob.id))
    db.session.add(Conversation(user_low_id=low, user_high_id=high))
    db.session.commit()
    real, calls = direct._find, []

    def misses_first(low, high):  # the other request inserted between our look and our insert
        calls.append((low, high))
        return None if len(calls) == 1 else real(low, high)

    monkeypatch.setattr(direct, "_find", misses_first)
    conversation = direct.conversation_with(learner, bob)
    assert conversation.user_low_id == low and conversation.id is not None
    assert db.session.query(Conversation).count() == 1


def test_nobody_messages_themselves(learner):
    with pytest.raises(Invalid, match="yourself"):
        direct.conversation_with(learner, learner)


@pytest.mark.parametrize("who_blocks", ["recipient", "sender"])
def test_a_block_either_way_stops_messages(learner, bob, who_blocks):
    conversation = talk(learner, bob)
    blocker, target = (bob, learner) if who_blocks == "recipient" else (learner, bob)
    direct.block(blocker, target)
    db.session.commit()
    assert direct.is_blocked_between(learner, bob) and direct.is_blocked_between(bob, learner)
    with pytest.raises(NotAllowed, match="blocked"):
        direct.send_direct_message(learner, conversation, "Hi")
    with pytest.raises(NotAllowed, match="blocked"):
        direct.conversation_with(bob, learner)
    direct.unblock(blocker, target)
    db.session.commit()
    assert say(learner, conversation, "Hi again").id


def test_only_the_blocker_lifts_a_block(learner, bob):
    direct.block(bob, learner)
    db.session.commit()
    assert direct.unblock(learner, bob) is False  # learner had not blocked bob
    assert direct.is_blocked_between(learner, bob)
    with pytest.raises(NotAllowed):
        direct.block(learner, learner)


def test_a_suspended_user_cannot_be_messaged_nor_write(learner, bob):
    conversation = talk(learner, bob)
    bob.suspended_at = utcnow()
    db.session.commit()
    with pytest.raises(NotAllowed, match="suspended"):
        direct.send_direct_message(learner, conversation, "Hi")
    with pytest.raises(NotAllowed):
        direct.send_direct_message(bob, conversation, "Hi")


def test_a_stranger_cannot_read_or_write_a_conversation(learner, bob, make_user):
    conversation = talk(learner, bob)
    eve = make_user()
    with pytest.raises(NotAllowed):
        direct.access_conversation(eve, conversation.id)
    with pytest.raises(NotAllowed):
        direct.send_direct_message(eve, conversation, "Let me in")
    with pytest.raises(NotAllowed):
        direct.history(eve, conversation)
    with pytest.raises(NotFound):
        direct.access_conversation(learner, conversation.id + 1000)


def test_send_stores_notifies_and_publishes_to_both_users(learner, bob, published):
    conversation = talk(learner, bob)
    published.clear()
    body = "Hi Bob, " + "x" * 100
    msg = say(learner, conversation, body)
    assert conversation.last_message_at == msg.created_at
    note = db.session.query(Notification).filter_by(user_id=bob.id, kind="dm.received").one()
    assert note.data == {"sender": "Lena Learner", "preview": body[:80], "conversation_id": conversation.id}
    assert [ch for ch, _ in published if ":dm:" in ch] == [channels.user_dm(bob.id), channels.user_dm(learner.id)]
    event = next(e for ch, e in published if ch == channels.user_dm(bob.id))
    assert event["type"] == "dm.sent" and event["id"] == msg.id and event["body"] == body
    assert event["sender_name"] == "Lena Learner" and event["conversation_id"] == conversation.id
    assert direct.DMView.from_event(event) == direct.DMView.from_row(msg, "Lena Learner")


def test_the_new_message_toast_carries_the_unread_message_count(learner, bob, published):
    """The header's "Messages" badge changes on whatever page the receiver has open."""
    conversation = talk(learner, bob)
    say(learner, conversation, "one")
    say(learner, conversation, "two")
    live = [e for ch, e in published if ch == channels.user_notify(bob.id) and e.get("kind") == "dm.received"]
    assert [e["dm_unread"] for e in live] == [1, 2]
    others = [e for ch, e in published if ch == channels.user_notify(bob.id) and e.get("kind") != "dm.received"]
    assert all("dm_unread" not in e for e in others)

def test_nothing_is_published_when_the_transaction_rolls_back(learner, bob, published):
    conversation = talk(learner, bob)
    published.clear()
    direct.send_direct_message(learner, conversation, "Never mind")
    db.session.rollback()
    assert published == []


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_bad_bodies_are_refused(learner, bob, body):
    conversation = talk(learner, bob)
    with pytest.raises(Invalid) as exc:
        direct.send_direct_message(learner, conversation, body)
    assert exc.value.field == "body"


def test_flooding_is_refused(app, learner, bob, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_COUNT", 2)
    # One window for the whole test: windows are aligned to the clock, and a test that
    # straddled two (a busy machine) would see its count start again.
    monkeypatch.setitem(app.config, "MESSAGE_RATE_SECONDS", 10**9)
    conversation = talk(learner, bob)
    say(learner, conversation, "1")
    say(learner, conversation, "2")
    with pytest.raises(TooFast):
        direct.send_direct_message(learner, conversation, "3")


def test_unread_counts_and_read_receipts(learner, bob, make_user, published):
    one = talk(learner, bob)
    carol = make_user(display_name="Carol")
    two = talk(carol, bob)
    say(learner, one, "a")
    last = say(learner, one, "b")
    say(carol, two, "c")
    say(bob, one, "reply")  # bob's own message is not unread for him
    assert direct.unread_counts(bob) == {one.id: 2, two.id: 1}
    assert direct.unread_total(bob) == 3 and direct.unread_total(learner) == 1
    assert direct.seen_id(learner, one) is None
    published.clear()
    assert direct.mark_read(bob, one) == 2
    db.session.commit()
    assert direct.unread_counts(bob) == {two.id: 1}
    assert direct.seen_id(learner, one) == last.id
    assert (channels.user_dm(learner.id), {"type": "dm.read", "conversation_id": one.id,
                                           "up_to_id": last.id, "reader_id": bob.id}) in published
    assert any(ch == channels.user_dm(bob.id) and e["type"] == "dm.read_by_me" for ch, e in published)
    published.clear()
    assert direct.mark_read(bob, one) == 0  # nothing new: no receipt
    db.session.commit()
    assert published == []


def test_history_pages_by_id_and_stays_stable_while_messages_arrive(learner, bob):
    conversation = talk(learner, bob)
    ids = [say(learner if n % 2 else bob, conversation, f"m{n}").id for n in range(7)]
    first = direct.history(learner, conversation, limit=3)
    assert [m.id for m in first.messages] == ids[4:]
    say(bob, conversation, "new one")  # a new message does not shift the older pages
    second = direct.history(learner, conversation, before_id=first.earlier, limit=3)
    assert [m.id for m in second.messages] == ids[1:4]
    third = direct.history(learner, conversation, before_id=second.earlier, limit=3)
    assert [m.id for m in third.messages] == ids[:1] and third.earlier is None


def test_messages_after_is_exactly_what_came_later(learner, bob, make_user):
    one = talk(learner, bob)
    other = talk(make_user(), make_user())  # not bob's
    first = say(learner, one, "1")
    say(other.user_low, other, "not for bob")
    second = say(bob, one, "2")
    third = say(learner, one, "3")
    assert [m.id for m in direct.messages_after(bob, first.id)] == [second.id, third.id]
    assert direct.messages_after(bob, None) == []
    assert direct.last_message_id(bob) == third.id


def test_inbox_lists_conversations_newest_first_with_preview_and_unread(learner, bob, make_user):
    carol = make_user(display_name="Carol")
    one = talk(learner, bob)
    two = talk(carol, learner)
    talk(learner, make_user())  # no message yet: not listed
    t0 = utcnow()
    say(bob, one, "old", now=t0)
    say(carol, two, "newer", now=t0 + timedelta(minutes=1))
    say(learner, two, "my answer", now=t0 + timedelta(minutes=2))
    rows = direct.inbox(learner)
    assert [(r.other.display_name, r.last.body, r.unread) for r in rows] == [
        ("Carol", "my answer", 1), ("Bob Buddy", "old", 1)]


def _queries_for_inbox(user) -> int:
    import sqlalchemy as sa

    db.session.expire_all()
    user_id = user.id  # reloaded here, not counted
    statements = []
    engine = db.session.get_bind()

    def listen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        rows = direct.inbox(user)
        assert {r.other.display_name for r in rows} and user_id
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return len(statements)


def test_inbox_runs_a_fixed_number_of_queries(learner, make_user):
    say(learner, talk(learner, make_user()), "x")
    with_one = _queries_for_inbox(learner)
    for _ in range(5):
        conversation = talk(make_user(), learner)
        say(conversation.other(learner.id), conversation, "x")
    assert _queries_for_inbox(learner) == with_one <= 5  # users, their permissions, last messages, counts


def test_moderator_delete_removes_the_text_for_both_and_is_audited(learner, bob, make_user, published):
    conversation = talk(learner, bob)
    msg = say(learner, conversation, "something nasty")
    moderator = make_user(permissions=("moderate",))
    with pytest.raises(NotAllowed):
        direct.moderator_delete(bob, msg.id, reason="mine to delete?")
    with pytest.raises(Invalid):
        direct.moderator_delete(moderator, msg.id, reason=" ")
    with pytest.raises(NotFound):
        direct.moderator_delete(moderator, msg.id + 999, reason="gone")
    published.clear()
    removed = direct.moderator_delete(moderator, msg.id, reason="abuse")
    db.session.commit()
    assert removed.deleted_at is not None
    view = direct.history(bob, conversation).messages[-1]
    assert view.deleted and view.body == ""
    audit = db.session.query(AuditLog).filter_by(action="dm.deleted").one()
    assert audit.actor_id == moderator.id and audit.target_id == msg.id and audit.reason == "abuse"
    assert {ch for ch, e in published if e["type"] == "dm.deleted"} == {
        channels.user_dm(learner.id), channels.user_dm(bob.id)}
    assert direct.moderator_delete(moderator, msg.id, reason="again").deleted_at == removed.deleted_at


def test_only_the_recipient_reports_a_message(learner, bob, make_user):

    conversation = talk(learner, bob)
    msg = say(learner, conversation, "rude")
    with pytest.raises(NotAllowed):
        report_direct_message(learner, msg.id, reason="my own")
    with pytest.raises(NotAllowed):
        report_direct_message(make_user(), msg.id, reason="not mine")
    report = report_direct_message(bob, msg.id, reason="rude words")
    db.session.commit()
    assert (report.target_type, report.target_id) == ("direct_message", msg.id)
    assert db.session.query(Report).count() == 1
    assert db.session.query(DirectMessage).count() == 1
