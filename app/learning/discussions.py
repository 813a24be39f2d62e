"""A course's discussion board: questions (threads), replies, answers, upvotes."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Course
from app.dbtypes import utcnow
from app.errors import Invalid, NotFound
from app.events import emit
from app.extensions import db
from app.learning.events import QuestionAnswered, QuestionAsked
from app.learning.models import Post, PostVote, Thread
from app.learning.permissions import (
    can_delete_post,
    can_edit_post,
    can_join_discussion,
    can_mark_answer,
    can_vote_post,
)
from app.learning.queries import is_enrolled, newest_first
from app.messaging.notifications import notify
from app.policy import require

TITLE_MAX, BODY_MAX = 200, 20_000


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid("Write something first.", field="body")
    if len(body) > BODY_MAX:
        raise Invalid(f"Keep it under {BODY_MAX:,} characters.", field="body")
    return body


def require_member(actor, course: Course) -> None:
    require(can_join_discussion(actor, course, enrolled=is_enrolled(actor, course)),
            "take part in this course's discussions")


def list_threads(actor, course: Course, *, page: int = 1, per_page: int = 20, lesson_id=None):
    require_member(actor, course)
    stmt = (sa.select(Thread).where(Thread.course_id == course.id, Thread.deleted_at.is_(None))
            .order_by(Thread.last_post_at.desc(), Thread.id.desc()))
    if lesson_id:
        stmt = stmt.where(Thread.lesson_id == lesson_id)
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)


def threads_page(actor, course: Course, *, after: tuple[datetime, int] | None = None, limit: int = 20,
                 lesson_id: int | None = None) -> list[Thread]:
    """`list_threads` by keyset: the latest active question first."""
    require_member(actor, course)
    stmt = sa.select(Thread).where(Thread.course_id == course.id, Thread.deleted_at.is_(None))
    if lesson_id:
        stmt = stmt.where(Thread.lesson_id == lesson_id)
    return newest_first(stmt, Thread.last_post_at, Thread.id, after, limit)


def access_thread(actor, thread_id: int) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.deleted_at is not None:
        raise NotFound("No such question.")
    require_member(actor, thread.course)
    return thread


def access_post(actor, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or post.thread.deleted_at is not None:
        raise NotFound("No such post.")
    require_member(actor, post.thread.course)
    return post


def start_thread(actor, course: Course, *, title: str, body: str, lesson_id: int | None = None,
                 now: datetime | None = None) -> Thread:
    require_member(actor, course)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid("Give your question a title.", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"Keep the title under {TITLE_MAX} characters.", field="title")
    lesson = None
    if lesson_id:
        try:
            lesson_id = int(lesson_id)
        except (TypeError, ValueError):
            raise Invalid("That lesson is not part of this course.", field="lesson_id") from None
        lesson = next((item for item in course.lessons if item.id == lesson_id), None)
        if lesson is None:
            raise Invalid("That lesson is not part of this course.", field="lesson_id")
    now = now or utcnow()
    thread = Thread(course_id=course.id, author_id=actor.id, lesson_id=lesson.id if lesson else None,
                    title=title, created_at=now, last_post_at=now)
    thread.posts.append(Post(author_id=actor.id, body=_clean_body(body), created_at=now))
    db.session.add(thread)
    db.session.flush()
    emit(QuestionAsked(thread_id=thread.id))
    if course.creator_id != actor.id:
        notify(course.creator, "discussion.question", course_id=course.id, thread_id=thread.id,
               title=title, course_title=course.title, author=actor.display_name)
    return thread


def reply(actor, thread: Thread, *, body: str, now: datetime | None = None) -> Post:
    if thread.deleted_at is not None:
        raise NotFound("No such question.")
    require_member(actor, thread.course)
    now = now or utcnow()
    first_answer = actor.id != thread.author_id and not answered(thread)
    post = Post(author_id=actor.id, body=_clean_body(body), created_at=now)
    thread.posts.append(post)
    thread.last_post_at = now
    db.session.flush()
    if first_answer:
        emit(QuestionAnswered(thread_id=thread.id, post_id=post.id))
    if thread.author is not None and thread.author_id != actor.id:
        notify(thread.author, "discussion.reply", course_id=thread.course_id, thread_id=thread.id,
               title=thread.title, author=actor.display_name)
    return post


def answered_condition(thread_table=Thread, *, visible_only: bool = False):
    """SQL: the thread has a post by someone other than its asker (with `visible_only`, one
    that is not deleted). A correlated EXISTS on the thread's posts (index on thread_id)."""
    condition = sa.and_(Post.thread_id == thread_table.id, Post.author_id.is_not(None),
                        sa.or_(thread_table.author_id.is_(None), Post.author_id != thread_table.author_id))
    if visible_only:
        condition = sa.and_(condition, Post.deleted_at.is_(None))
    return sa.exists().where(condition)


def answered(thread: Thread) -> bool:
    """Someone other than the asker has posted in the thread (a deleted reply still counts:
    the question was answered then)."""
    others = [Post.thread_id == thread.id, Post.author_id.is_not(None)]
    if thread.author_id is not None:
        others.append(Post.author_id != thread.author_id)
    return db.session.scalar(sa.select(Post.id).where(*others).limit(1)) is not None


def edit_post(actor, post: Post, *, body: str, now: datetime | None = None) -> Post:
    now = now or utcnow()
    require_member(actor, post.thread.course)
    require(can_edit_post(actor, post, now), "edit this post (posts can be edited for 15 minutes)")
    post.body, post.edited_at = _clean_body(body), now
    return post


def delete_post(actor, post: Post, *, now: datetime | None = None) -> None:
    """Deleting a question's first post deletes the question; replies leave a tombstone."""
    require(can_delete_post(actor, post), "delete this post")
    now = now or utcnow()
    post.deleted_at = now
    thread = post.thread
    if thread.posts and thread.posts[0].id == post.id:
        thread.deleted_at = now
    if thread.answer_post_id == post.id:
        thread.answer_post_id = None


def mark_answer(actor, thread: Thread, post: Post | None) -> Thread:
    """The creator marks the reply that answers the question (or clears it with None)."""
    require(can_mark_answer(actor, thread), "mark the answer")
    if post is not None and (post.thread_id != thread.id or post.deleted_at is not None
                             or post.id == thread.posts[0].id):
        raise Invalid("Pick a reply in this thread.")
    thread.answer_post_id = post.id if post is not None else None
    return thread


def toggle_vote(actor, post: Post) -> bool:
    """Upvote a post, or take the upvote back. Returns whether the vote now stands."""
    if post.thread.deleted_at is not None:
        raise NotFound("No such post.")
    course = post.thread.course
    require(can_vote_post(actor, post, enrolled=is_enrolled(actor, course)), "upvote this post")
    vote = db.session.scalar(sa.select(PostVote).where(PostVote.post_id == post.id,
                                                       PostVote.user_id == actor.id))
    table = Post.__table__
    if vote is None:
        db.session.add(PostVote(post_id=post.id, user_id=actor.id))
        delta = 1
    else:
        db.session.delete(vote)
        delta = -1
    db.session.flush()
    db.session.execute(sa.update(table).where(table.c.id == post.id).values(votes=table.c.votes + delta))
    db.session.refresh(post)
    return delta == 1


def voted_post_ids(actor, thread: Thread) -> set[int]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    return set(db.session.scalars(sa.select(PostVote.post_id).join(Post).where(
        Post.thread_id == thread.id, PostVote.user_id == actor.id)))
