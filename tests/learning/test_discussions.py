"""A course's discussion board (app/learning/discussions.py)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.errors import Invalid, NotAllowed, NotFound
from app.learning import discussions
from app.learning.enrollment import enroll, revoke
from app.moderation.models import Report
from app.moderation.reports import report_post
from app.moderation.suspensions import suspend_user
from tests.support.learning import course_with_kinds, lessons_of
from tests.support.rows import notifications

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def classmate(db, make_user, course):
    """A second enrolled learner."""
    user = make_user(email="classmate@example.test", display_name="Cleo Classmate", password=None)
    enroll(user, course)
    db.session.commit()
    return user


@pytest.fixture
def thread(db, learner, course, enrolled):
    """The learner's question, asked at T0."""
    thread = discussions.start_thread(learner, course, title="How do joins work?",
                                      body="I am lost at **joins**.", now=T0)
    db.session.commit()
    return thread


def ask(actor, course, title="A question", **kw):
    return discussions.start_thread(actor, course, title=title, body="Body", **kw)


# --- who takes part --------------------------------------------------------------------

def test_enrolled_learners_the_creator_and_moderators_take_part(db, creator, learner, moderator,
                                                                course, enrolled):
    for who in (learner, creator, moderator):
        thread = ask(who, course, title=f"From {who.display_name}")
        assert discussions.access_thread(who, thread.id).id == thread.id
    assert discussions.list_threads(learner, course).total == 3


def test_strangers_and_anonymous_visitors_do_not(db, make_user, anonymous, course, thread):
    for who in (make_user(password=None), anonymous):
        with pytest.raises(NotAllowed):
            discussions.list_threads(who, course)
        with pytest.raises(NotAllowed):
            discussions.access_thread(who, thread.id)
        with pytest.raises(NotAllowed):
            ask(who, course)


def test_a_suspended_learner_is_cut_off(db, admin, learner, course, thread):
    suspend_user(admin, learner, reason="abuse")
    db.session.commit()
    with pytest.raises(NotAllowed):
        discussions.reply(learner, thread, body="Still here?")
    with pytest.raises(NotAllowed):
        discussions.list_threads(learner, course)


def test_a_revoked_learner_is_cut_off(db, admin, learner, course, enrolled, thread):
    revoke(enrolled, reason="refunded", actor=admin)
    db.session.commit()
    with pytest.raises(NotAllowed):
        discussions.reply(learner, thread, body="Hello?")


def test_a_learner_of_another_course_does_not_take_part(db, creator, admin, learner, enrolled):
    other = course_with_kinds(creator, admin, title="Another course")
    with pytest.raises(NotAllowed):
        ask(learner, other)


# --- questions and replies -------------------------------------------------------------

def test_a_question_has_a_title_and_a_first_post(db, course, thread):
    assert thread.title == "How do joins work?"
    assert [p.body for p in thread.posts] == ["I am lost at **joins**."]
    assert thread.created_at == thread.last_post_at == T0


@pytest.mark.parametrize("title, body", [("", "Body"), ("   ", "Body"), ("t" * 201, "Body"),
                                         ("Title", ""), ("Title", "   "), ("Title", "b" * 20_001)])
def test_a_question_needs_a_title_and_a_body(db, learner, course, enrolled, title, body):
    with pytest.raises(Invalid):
        discussions.start_thread(learner, course, title=title, body=body)
    assert discussions.list_threads(learner, course).total == 0


def test_a_question_can_be_linked_to_a_lesson_of_the_course(db, creator, admin, learner, course,
                                                            enrolled):
    fourth = lessons_of(course)[3]
    thread = ask(learner, course, lesson_id=fourth.id)
    assert thread.lesson_id == fourth.id
    assert discussions.list_threads(learner, course, lesson_id=fourth.id).total == 1
    assert discussions.list_threads(learner, course, lesson_id=lessons_of(course)[0].id).total == 0


@pytest.mark.parametrize("lesson_id", [10 ** 6, "abc", -1])
def test_a_question_cannot_link_a_foreign_or_garbled_lesson(db, learner, course, enrolled,
                                                            lesson_id):
    with pytest.raises(Invalid):
        ask(learner, course, lesson_id=lesson_id)


def test_a_question_cannot_link_a_lesson_of_another_course(db, creator, admin, learner, course,
                                                           enrolled):
    other = course_with_kinds(creator, admin, title="Another course")
    with pytest.raises(Invalid):
        ask(learner, course, lesson_id=lessons_of(other)[0].id)


def test_the_creator_is_told_of_a_new_question(db, creator, learner, course, thread):
    [note] = notifications(creator, "discussion.question")
    assert note.data["thread_id"] == thread.id and note.data["author"] == "Lena Learner"


def test_the_creator_is_not_told_of_their_own_question(db, creator, course):
    ask(creator, course)
    assert notifications(creator, "discussion.question") == []


def test_the_asker_is_told_of_replies_but_not_of_their_own(db, creator, learner, classmate,
                                                           thread):
    discussions.reply(learner, thread, body="Any ideas?")
    assert notifications(learner, "discussion.reply") == []
    discussions.reply(creator, thread, body="Use ON.")
    discussions.reply(classmate, thread, body="Me too.")
    notes = notifications(learner, "discussion.reply")
    assert [n.data["author"] for n in notes] == ["Carl Creator", "Cleo Classmate"]
    assert notifications(creator, "discussion.reply") == []


def test_a_reply_moves_the_question_up(db, creator, learner, course, thread):
    later = ask(learner, course, title="Later", now=T0 + timedelta(hours=1))
    discussions.reply(creator, thread, body="Answer", now=T0 + timedelta(hours=2))
    assert [t.id for t in discussions.list_threads(learner, course).items] == [thread.id, later.id]


def test_an_empty_reply_is_refused(db, creator, thread):
    with pytest.raises(Invalid):
        discussions.reply(creator, thread, body="  ")
    assert len(thread.posts) == 1


def test_nobody_replies_to_a_deleted_question(db, creator, learner, thread):
    discussions.delete_post(learner, thread.posts[0])
    db.session.commit()
    with pytest.raises(NotFound):
        discussions.reply(creator, thread, body="Too late")
    assert len(thread.posts) == 1


# --- editing and deleting --------------------------------------------------------------

def test_a_post_can_be_edited_within_15_minutes(db, learner, thread):
    post = thread.posts[0]
    discussions.edit_post(learner, post, body="Edited", now=T0 + timedelta(minutes=14))
    assert post.body == "Edited" and post.edited_at == T0 + timedelta(minutes=14)


def test_a_post_cannot_be_edited_after_15_minutes(db, learner, thread):
    post = thread.posts[0]
    with pytest.raises(NotAllowed):
        discussions.edit_post(learner, post, body="Too late", now=T0 + timedelta(minutes=16))
    assert post.body == "I am lost at **joins**." and post.edited_at is None


def test_only_the_author_edits_a_post(db, creator, moderator, classmate, thread):
    for who in (creator, moderator, classmate):
        with pytest.raises(NotAllowed):
            discussions.edit_post(who, thread.posts[0], body="Mine now", now=T0)
    assert thread.posts[0].body == "I am lost at **joins**."


def test_an_edit_cannot_empty_a_post(db, learner, thread):
    with pytest.raises(Invalid):
        discussions.edit_post(learner, thread.posts[0], body=" ", now=T0)


def test_a_suspended_author_cannot_edit(db, admin, learner, thread):
    suspend_user(admin, learner, reason="abuse")
    with pytest.raises(NotAllowed):
        discussions.edit_post(learner, thread.posts[0], body="Sneaky", now=T0)


def test_the_author_deletes_a_reply_and_leaves_the_question(db, creator, learner, course, thread):
    reply = discussions.reply(learner, thread, body="Oops", now=T0)
    discussions.delete_post(learner, reply)
    db.session.commit()
    assert reply.deleted_at is not None and thread.deleted_at is None
    assert discussions.access_thread(creator, thread.id).id == thread.id


def test_deleting_the_first_post_deletes_the_question(db, creator, learner, course, thread):
    discussions.delete_post(learner, thread.posts[0])
    db.session.commit()
    assert thread.deleted_at is not None
    with pytest.raises(NotFound):
        discussions.access_thread(creator, thread.id)
    assert discussions.list_threads(creator, course).total == 0


def test_a_moderator_deletes_anyones_post(db, moderator, thread):
    discussions.delete_post(moderator, thread.posts[0])
    assert thread.deleted_at is not None


def test_others_cannot_delete_a_post(db, creator, classmate, thread):
    for who in (classmate, creator):
        with pytest.raises(NotAllowed):
            discussions.delete_post(who, thread.posts[0])
    assert thread.deleted_at is None


def test_a_deleted_post_cannot_be_deleted_or_edited_again(db, learner, thread):
    reply = discussions.reply(learner, thread, body="Oops", now=T0)
    discussions.delete_post(learner, reply)
    with pytest.raises(NotAllowed):
        discussions.delete_post(learner, reply)
    with pytest.raises(NotAllowed):
        discussions.edit_post(learner, reply, body="Back", now=T0)


# --- answers ---------------------------------------------------------------------------

def test_the_creator_marks_a_reply_as_the_answer(db, creator, learner, thread):
    answer = discussions.reply(creator, thread, body="Use ON.")
    discussions.mark_answer(creator, thread, answer)
    assert thread.answer_post_id == answer.id
    discussions.mark_answer(creator, thread, None)
    assert thread.answer_post_id is None


def test_only_the_creator_marks_the_answer(db, creator, learner, moderator, thread):
    answer = discussions.reply(creator, thread, body="Use ON.")
    for who in (learner, moderator):
        with pytest.raises(NotAllowed):
            discussions.mark_answer(who, thread, answer)
    assert thread.answer_post_id is None


def test_the_question_itself_is_not_an_answer(db, creator, thread):
    with pytest.raises(Invalid):
        discussions.mark_answer(creator, thread, thread.posts[0])
    assert thread.answer_post_id is None


def test_an_answer_comes_from_the_same_thread(db, creator, learner, course, thread):
    other = ask(learner, course, title="Other")
    elsewhere = discussions.reply(creator, other, body="Elsewhere")
    with pytest.raises(Invalid):
        discussions.mark_answer(creator, thread, elsewhere)


def test_deleting_the_answer_clears_it(db, creator, thread):
    answer = discussions.reply(creator, thread, body="Use ON.")
    discussions.mark_answer(creator, thread, answer)
    discussions.delete_post(creator, answer)
    assert thread.answer_post_id is None
    with pytest.raises(Invalid):
        discussions.mark_answer(creator, thread, answer)


# --- upvotes ---------------------------------------------------------------------------

def test_an_upvote_toggles(db, classmate, thread):
    post = thread.posts[0]
    assert discussions.toggle_vote(classmate, post) is True
    assert post.votes == 1 and discussions.voted_post_ids(classmate, thread) == {post.id}
    assert discussions.toggle_vote(classmate, post) is False
    assert post.votes == 0 and discussions.voted_post_ids(classmate, thread) == set()


def test_votes_from_several_learners_add_up(db, make_user, course, thread):
    for _ in range(3):
        voter = make_user(password=None)
        enroll(voter, course)
        discussions.toggle_vote(voter, thread.posts[0])
    db.session.commit()
    db.session.expire_all()
    assert thread.posts[0].votes == 3


def test_nobody_upvotes_their_own_post(db, learner, thread):
    with pytest.raises(NotAllowed):
        discussions.toggle_vote(learner, thread.posts[0])
    assert thread.posts[0].votes == 0


def test_upvotes_are_for_enrolled_learners(db, make_user, anonymous, thread):
    for who in (make_user(password=None), anonymous):
        with pytest.raises(NotAllowed):
            discussions.toggle_vote(who, thread.posts[0])
    assert thread.posts[0].votes == 0
    assert discussions.voted_post_ids(anonymous, thread) == set()


def test_a_suspended_learner_cannot_upvote(db, admin, classmate, thread):
    suspend_user(admin, classmate, reason="vote rings")
    with pytest.raises(NotAllowed):
        discussions.toggle_vote(classmate, thread.posts[0])
    assert thread.posts[0].votes == 0


def test_a_deleted_post_cannot_be_upvoted(db, learner, classmate, thread):
    reply = discussions.reply(learner, thread, body="Oops")
    discussions.delete_post(learner, reply)
    with pytest.raises(NotAllowed):
        discussions.toggle_vote(classmate, reply)


# --- reports ---------------------------------------------------------------------------

def reports_of(db, post) -> list[Report]:
    return list(db.session.scalars(sa.select(Report).where(
        Report.target_type == "discussion_post", Report.target_id == post.id)))


def test_a_post_is_reported_once_per_reporter(db, creator, classmate, thread):
    post = thread.posts[0]
    first = report_post(classmate, post, reason="Off topic")
    again = report_post(classmate, post, reason="Really off topic")
    assert again.id == first.id and first.reason == "Off topic"
    report_post(creator, post, reason="Spam")
    db.session.commit()
    assert sorted(r.reporter_id for r in reports_of(db, post)) == sorted([classmate.id, creator.id])
    assert all(r.status == "open" for r in reports_of(db, post))


def test_a_report_needs_a_reason(db, classmate, thread):
    with pytest.raises(Invalid):
        report_post(classmate, thread.posts[0], reason="  ")
    assert reports_of(db, thread.posts[0]) == []


def test_only_members_report_posts(db, make_user, thread):
    with pytest.raises(NotAllowed):
        report_post(make_user(password=None), thread.posts[0], reason="Spam")
    assert reports_of(db, thread.posts[0]) == []


def test_a_deleted_questions_replies_are_gone_too(db, creator, learner, classmate, thread):
    reply = discussions.reply(creator, thread, body="Use ON.")
    discussions.delete_post(learner, thread.posts[0])
    db.session.commit()
    with pytest.raises(NotFound):
        discussions.access_post(classmate, reply.id)
    with pytest.raises(NotFound):
        discussions.toggle_vote(classmate, reply)
    assert reply.votes == 0


def test_access_post_finds_a_live_post_for_members_only(db, make_user, classmate, thread):
    post = thread.posts[0]
    assert discussions.access_post(classmate, post.id).id == post.id
    with pytest.raises(NotAllowed):
        discussions.access_post(make_user(password=None), post.id)
    with pytest.raises(NotFound):
        discussions.access_post(classmate, 10 ** 6)


def test_a_revoked_learner_cannot_edit_even_within_the_window(db, admin, learner, enrolled,
                                                               thread):
    revoke(enrolled, reason="refunded", actor=admin)
    with pytest.raises(NotAllowed):
        discussions.edit_post(learner, thread.posts[0], body="Sneaky", now=T0)
    assert thread.posts[0].body == "I am lost at **joins**."


# --- the board by keyset ---------------------------------------------------------------------

def test_the_board_by_keyset_in_the_pages_order(db, learner, classmate, course, thread):
    for n in range(3):
        ask(classmate, course, title=f"Question {n}", now=T0 + timedelta(minutes=n % 2))
    db.session.commit()
    first = discussions.threads_page(learner, course, limit=2)
    rest = discussions.threads_page(learner, course, after=(first[-1].last_post_at, first[-1].id))
    assert [t.id for t in first + rest] == [t.id for t in discussions.list_threads(learner, course).items]


def test_the_board_by_keyset_is_for_members(db, make_user, course, thread):
    with pytest.raises(NotAllowed):
        discussions.threads_page(make_user(password=None), course)
