"""A course's questions and answers, for its members (enrolled learners, its creator and
moderators): the same services and rules as the discussion pages (blueprints/learn/). As
there, someone who is not a member gets a 403 naming what they may not do, a question or post
that does not exist (or was deleted) a 404; posts are edited by their author for 15
minutes, deleted by their author or a moderator, answers marked by the course's creator."""
from __future__ import annotations

from flask import g
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.keysets import cursor_after, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Time
from app.catalog.queries import get_course
from app.extensions import db
from app.learning import discussions
from app.learning.models import Post, Thread
from app.moderation.reports import report_post

TAG = "Discussions"
LOOSE_MAX = 100_000  # the services give the exact limits, with the words to show


class DiscussionPost(ApiModel):
    id: int
    author_name: str | None = Field(description="null for a deleted account")
    by_creator: bool = Field(description="Written by the course's creator")
    body: str | None = Field(description="Markdown; null once deleted (the post stays as a tombstone)")
    deleted: bool
    votes: int
    voted: bool = Field(description="I upvoted it")
    is_answer: bool
    created_at: Time
    edited_at: Time | None


class DiscussionThreadSummary(ApiModel):
    id: int
    course_id: int
    title: str
    author_name: str | None
    lesson_id: int | None = Field(description="The lesson it was asked on; null for the whole course")
    answered: bool
    reply_count: int
    created_at: Time
    last_post_at: Time


class DiscussionThread(DiscussionThreadSummary):
    posts: list[DiscussionPost] = Field(description="The question first, then the replies in order")


class DiscussionThreadList(Page):
    items: list[DiscussionThreadSummary]


class ThreadQuery(CursorQuery):
    lesson_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Only questions asked on this lesson")


class NewThread(ApiModel):
    title: str = Field(max_length=LOOSE_MAX)
    body: str = Field(max_length=LOOSE_MAX, description="Markdown")
    lesson_id: int | None = Field(None, ge=1, le=2**31 - 1, description="A lesson of this course")


class PostBody(ApiModel):
    body: str = Field(max_length=LOOSE_MAX, description="Markdown")


class VoteState(ApiModel):
    post_id: int
    voted: bool
    votes: int


class PostReport(ApiModel):
    reason: str = Field(max_length=LOOSE_MAX, description="What is wrong with it, for the moderators")


@bp.get("/courses/<int:course_id>/threads")
@operation(tags=[TAG], scope="read", query=ThreadQuery, model=DiscussionThreadList, not_found=True)
def thread_list(course_id: int, query: ThreadQuery):
    """A course's questions

    The latest active first; for the course's members."""
    rows = discussions.threads_page(g.api_grant.user, get_course(course_id), after=position_after(query, "threads"),
                                    limit=query.limit + 1, lesson_id=query.lesson_id)
    return DiscussionThreadList(items=[_summary(row) for row in rows[:query.limit]],
                                next_cursor=cursor_after(rows, query.limit, "threads", lambda row: row.last_post_at))


@bp.post("/courses/<int:course_id>/threads")
@operation(tags=[TAG], scope="learn", json=NewThread, model=DiscussionThread, ok=201, not_found=True)
def thread_create(course_id: int, json: NewThread):
    """Ask a question

    The creator is notified."""
    thread = discussions.start_thread(g.api_grant.user, get_course(course_id), title=json.title, body=json.body,
                                      lesson_id=json.lesson_id)
    db.session.commit()
    return _thread(thread), 201


@bp.get("/threads/<int:thread_id>")
@operation(tags=[TAG], scope="read", model=DiscussionThread, not_found=True)
def thread_detail(thread_id: int):
    """A question with its replies"""
    return _thread(discussions.access_thread(g.api_grant.user, thread_id))


@bp.post("/threads/<int:thread_id>/posts")
@operation(tags=[TAG], scope="learn", json=PostBody, model=DiscussionPost, ok=201, not_found=True)
def post_create(thread_id: int, json: PostBody):
    """Reply to a question

    The asker is notified."""
    user = g.api_grant.user
    thread = discussions.access_thread(user, thread_id)
    post = discussions.reply(user, thread, body=json.body)
    db.session.commit()
    return _post(post, thread, discussions.voted_post_ids(user, thread)), 201


@bp.patch("/posts/<int:post_id>")
@operation(tags=[TAG], scope="learn", json=PostBody, model=DiscussionPost, not_found=True)
def post_edit(post_id: int, json: PostBody):
    """Edit my post

    Within 15 minutes of posting it."""
    user = g.api_grant.user
    post = discussions.access_post(user, post_id)
    discussions.edit_post(user, post, body=json.body)
    db.session.commit()
    return _post(post, post.thread, discussions.voted_post_ids(user, post.thread))


@bp.delete("/posts/<int:post_id>")
@operation(tags=[TAG], scope="learn", ok=204, not_found=True)
def post_delete(post_id: int):
    """Delete a post

    My own, or any as a moderator. Deleting a question's first post deletes the question;
    a reply leaves a tombstone."""
    user = g.api_grant.user
    discussions.delete_post(user, discussions.access_post(user, post_id))
    db.session.commit()
    return "", 204


@bp.post("/posts/<int:post_id>/vote")
@operation(tags=[TAG], scope="learn", model=VoteState, not_found=True)
def post_vote(post_id: int):
    """Upvote a post, or take the upvote back

    Enrolled learners upvote others' posts; the answer says whether my vote now stands."""
    post = discussions.access_post(g.api_grant.user, post_id)
    voted = discussions.toggle_vote(g.api_grant.user, post)
    db.session.commit()
    return VoteState(post_id=post.id, voted=voted, votes=post.votes)


@bp.post("/posts/<int:post_id>/answer")
@operation(tags=[TAG], scope="learn", model=DiscussionThread, not_found=True)
def post_mark_answer(post_id: int):
    """Mark a reply as the answer

    The course's creator marks the reply that answers the question."""
    post = discussions.access_post(g.api_grant.user, post_id)
    thread = discussions.mark_answer(g.api_grant.user, post.thread, post)
    db.session.commit()
    return _thread(thread)


@bp.delete("/threads/<int:thread_id>/answer")
@operation(tags=[TAG], scope="learn", model=DiscussionThread, not_found=True)
def thread_clear_answer(thread_id: int):
    """Unmark the answer

    The course's creator only."""
    thread = discussions.access_thread(g.api_grant.user, thread_id)
    discussions.mark_answer(g.api_grant.user, thread, None)
    db.session.commit()
    return _thread(thread)


@bp.post("/posts/<int:post_id>/report")
@operation(tags=[TAG], scope="learn", json=PostReport, ok=204, not_found=True)
def post_report(post_id: int, json: PostReport):
    """Report a post to the moderators

    Someone else's post; reporting it twice changes nothing."""
    post = discussions.access_post(g.api_grant.user, post_id)
    report_post(g.api_grant.user, post, reason=json.reason)
    db.session.commit()
    return "", 204


def _summary(thread: Thread) -> DiscussionThreadSummary:
    return DiscussionThreadSummary(
        id=thread.id, course_id=thread.course_id, title=thread.title,
        author_name=thread.author.display_name if thread.author else None, lesson_id=thread.lesson_id,
        answered=thread.answer_post_id is not None, reply_count=len(thread.posts) - 1,
        created_at=thread.created_at, last_post_at=thread.last_post_at)


def _thread(thread: Thread) -> DiscussionThread:
    voted = discussions.voted_post_ids(g.api_grant.user, thread)
    return DiscussionThread(**dict(_summary(thread)), posts=[_post(post, thread, voted) for post in thread.posts])


def _post(post: Post, thread: Thread, voted: set[int]) -> DiscussionPost:
    deleted = post.deleted_at is not None
    return DiscussionPost(
        id=post.id, author_name=post.author.display_name if post.author else None,
        by_creator=post.author_id is not None and post.author_id == thread.course.creator_id,
        body=None if deleted else post.body, deleted=deleted, votes=post.votes, voted=post.id in voted,
        is_answer=thread.answer_post_id == post.id, created_at=post.created_at, edited_at=post.edited_at)
