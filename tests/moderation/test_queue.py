"""The moderation queue (app/moderation/queue.py): open reports grouped by target, oldest
first, paginated, each with the context a decision needs; missing targets never break it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from app.errors import Invalid, NotAllowed, NotFound
from app.moderation.queue import moderation_queue, moderation_queue_after, queue_item, target_context
from app.moderation.reports import open_target_count
from tests.support.moderation import T0, chat_line, course_review, dm_line, forum_post, member, reported

# --- helpers shared by the moderation tests (tests/moderation, tests/web) --------------------


@pytest.fixture
def course(make_course, creator):
    return make_course(creator, title="Python Basics", status="published")


# --- permission -----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["anonymous", "none", "learner", "creator", "reviewer", "user_admin"])
def test_only_moderators_see_the_queue(request, who):
    if who in ("anonymous", "none"):
        actor = AnonymousUserMixin() if who == "anonymous" else None
    else:
        actor = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        moderation_queue(actor)
    with pytest.raises(NotAllowed):
        queue_item(actor, "review", 1)


def test_an_empty_queue(moderator):
    page = moderation_queue(moderator)
    assert (page.items, page.total, page.pages, page.has_next, page.has_prev) == ([], 0, 1, False, False)


# --- grouping, order, pages -----------------------------------------------------------------

def test_reports_of_one_target_are_one_item_with_every_reason(moderator, course, learner, make_user):
    member(learner, course)
    author = make_user(display_name="Rude Ruth")
    line = chat_line(course, author, "you are all idiots")
    others = [make_user() for _ in range(2)]
    reported(learner, "chat_message", line.id, "Insult", at=T0 + timedelta(minutes=5))
    reported(others[0], "chat_message", line.id, "Abusive", at=T0)
    reported(others[1], "chat_message", line.id, "Rude", at=T0 + timedelta(minutes=9))
    page = moderation_queue(moderator)
    assert page.total == 1 and len(page.items) == 1
    item = page.items[0]
    assert (item.target_type, item.target_id, item.reporter_count) == ("chat_message", line.id, 3)
    assert [r.reason for r in item.reports] == ["Abusive", "Insult", "Rude"]
    assert item.first_reported_at == T0
    assert item.dom_id == f"report-chat_message-{line.id}"
    assert open_target_count() == 1


def test_oldest_target_first_and_closed_reports_left_out(moderator, learner, creator, course):
    late = reported(learner, "review", 11, at=T0 + timedelta(hours=2))
    early = reported(learner, "discussion_post", 12, at=T0)
    # An early report of the late target does not move it: it was reported before anything else.
    reported(creator, "review", 13, at=T0 + timedelta(hours=1))
    reported(creator, "review", 14, status="resolved", at=T0 - timedelta(days=1))
    reported(creator, "review", 15, status="dismissed", at=T0 - timedelta(days=1))
    keys = [(i.target_type, i.target_id) for i in moderation_queue(moderator).items]
    assert keys == [("discussion_post", early.target_id), ("review", 13), ("review", late.target_id)]
    assert open_target_count() == 3


def test_a_target_with_a_resolved_and_an_open_report_shows_only_the_open_one(moderator, learner, creator):
    reported(learner, "review", 21, "Old complaint", status="resolved")
    reported(creator, "review", 21, "New complaint", at=T0 + timedelta(days=2))
    (item,) = moderation_queue(moderator).items
    assert [r.reason for r in item.reports] == ["New complaint"] and item.reporter_count == 1


def test_the_queue_is_paginated(moderator, learner):
    for n in range(5):
        reported(learner, "review", 100 + n, at=T0 + timedelta(minutes=n))
    first = moderation_queue(moderator, page=1, per_page=2)
    third = moderation_queue(moderator, page=3, per_page=2)
    beyond = moderation_queue(moderator, page=9, per_page=2)
    assert [i.target_id for i in first.items] == [100, 101]
    assert (first.total, first.pages, first.has_next, first.has_prev) == (5, 3, True, False)
    assert [i.target_id for i in third.items] == [104] and not third.has_next and third.has_prev
    assert beyond.items == [] and beyond.page == 9


def test_the_queue_by_position_walks_the_same_order_ties_included(moderator, learner, creator):
    for target_type, target_id, minutes in (("review", 7, 0), ("chat_message", 9, 0), ("review", 3, 0),
                                            ("discussion_post", 1, 5), ("review", 2, -5)):
        reported(learner, target_type, target_id, at=T0 + timedelta(minutes=minutes))
    reported(creator, "review", 2, at=T0 + timedelta(hours=1), status="resolved")  # closed: left out
    order = [(i.target_type, i.target_id) for i in moderation_queue(moderator).items]
    assert order == [("review", 2), ("chat_message", 9), ("review", 3), ("review", 7), ("discussion_post", 1)]
    seen, after = [], None
    while True:
        items = moderation_queue_after(moderator, after=after, limit=2)
        if not items:
            break
        seen += [(i.target_type, i.target_id) for i in items]
        last = items[-1]
        after = (last.first_reported_at, last.target_type, last.target_id)
    assert seen == order
    with pytest.raises(NotAllowed):
        moderation_queue_after(learner)


def test_bad_page_numbers_mean_the_first_page(moderator, learner):
    reported(learner, "review", 5)
    assert [i.target_id for i in moderation_queue(moderator, page=-3).items] == [5]


# --- context --------------------------------------------------------------------------------

def test_a_chat_message_comes_with_its_room_author_and_neighbours(moderator, course, learner, make_user):
    author = make_user(display_name="Rude Ruth")
    lines = [chat_line(course, learner if n % 2 else author, f"line {n}") for n in range(9)]
    target = lines[4]
    reported(learner, "chat_message", target.id)
    (item,) = moderation_queue(moderator).items
    ctx = item.context
    assert ctx.course.id == course.id and ctx.author.id == author.id
    assert ctx.label == "a chat message in “Python Basics”"
    bodies = [m.body for m in ctx.around]
    assert bodies == ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]
    assert not ctx.missing and not ctx.deleted


def test_chat_neighbours_come_from_the_same_room_only(moderator, course, make_course, creator, learner):
    elsewhere = make_course(creator, title="Elsewhere", status="published")
    chat_line(elsewhere, creator, "secret elsewhere")
    target = chat_line(course, creator, "reported")
    chat_line(elsewhere, creator, "secret elsewhere 2")
    ctx = target_context("chat_message", target.id)
    assert [m.body for m in ctx.around] == ["reported"]


def test_a_direct_message_shows_both_parties_and_only_its_neighbours(moderator, learner, make_user):
    pest = make_user(display_name="Pete Pest")
    lines = [dm_line(pest if n % 2 == 0 else learner, learner if n % 2 == 0 else pest, f"dm {n}")
             for n in range(10)]
    target = lines[6]  # pest → learner
    reported(learner, "direct_message", target.id, "Harassment")
    ctx = queue_item(moderator, "direct_message", target.id).context
    assert [p.id for p in ctx.parties] == [pest.id, learner.id]
    assert [m.body for m in ctx.around] == ["dm 4", "dm 5", "dm 6", "dm 7", "dm 8"]
    assert ctx.label == "a direct message"


def test_a_discussion_post_and_a_review_come_with_their_text_and_course(moderator, course, learner,
                                                                         make_user):
    member(learner, course)
    post = forum_post(course, learner, body="Buy cheap watches at spam.example", title="Spam title")
    review = course_review(course, learner, rating=1, body="Worst course ever")
    reporter = make_user()
    reported(reporter, "discussion_post", post.id)
    reported(reporter, "review", review.id, at=T0 + timedelta(minutes=1))
    post_item, review_item = moderation_queue(moderator).items
    assert post_item.context.thread.title == "Spam title" and post_item.context.course.id == course.id
    assert post_item.context.content.body == "Buy cheap watches at spam.example"
    assert post_item.context.label == "a post in “Spam title”"
    assert review_item.context.content.body == "Worst course ever"
    assert review_item.context.author.id == learner.id
    assert review_item.context.label == "a review of “Python Basics”"


@pytest.mark.parametrize("target_type", ["chat_message", "direct_message", "discussion_post", "review"])
def test_missing_targets_are_shown_as_missing(moderator, learner, target_type):
    reported(learner, target_type, 987654)
    (item,) = moderation_queue(moderator).items
    assert item.context.missing and item.context.content is None and item.context.around == []
    assert item.context.label.startswith("a ")


def test_deleted_messages_are_shown_as_deleted(moderator, course, learner, creator):
    line = chat_line(course, creator, "gone", deleted_at=T0)
    reported(learner, "chat_message", line.id)
    ctx = moderation_queue(moderator).items[0].context
    assert ctx.deleted and not ctx.missing


def test_an_author_whose_account_is_gone_is_none(moderator, course, learner):
    line = chat_line(course, None, "orphan")
    reported(learner, "chat_message", line.id)
    assert moderation_queue(moderator).items[0].context.author is None


def test_queue_item_refuses_unknown_types_and_unreported_targets(moderator):
    with pytest.raises(Invalid):
        queue_item(moderator, "user", 1)
    with pytest.raises(NotFound):
        queue_item(moderator, "review", 1)
