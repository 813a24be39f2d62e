"""Content to moderate, stored directly (chat lines, direct messages, forum posts, course reviews)
and reports on it, for the moderation queue and decision tests."""
from __future__ import annotations

from datetime import UTC, datetime

from app.extensions import db
from app.learning import discussions, reviews
from app.learning.models import Enrollment, Post, Review
from app.messaging.models import ChatMessage, Conversation, DirectMessage
from app.moderation.models import Report

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def member(user, course) -> Enrollment:
    row = Enrollment(course_id=course.id, learner_id=user.id, source="free")
    db.session.add(row)
    db.session.commit()
    return row


def chat_line(course, author, body="hello", **fields) -> ChatMessage:
    row = ChatMessage(course_id=course.id, author_id=author.id if author else None, body=body, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def dm_line(sender, recipient, body="hi", **fields) -> DirectMessage:
    low, high = sorted((sender.id, recipient.id))
    conversation = db.session.scalar(db.select(Conversation).filter_by(user_low_id=low, user_high_id=high))
    if conversation is None:
        conversation = Conversation(user_low_id=low, user_high_id=high)
        db.session.add(conversation)
        db.session.flush()
    row = DirectMessage(conversation_id=conversation.id, sender_id=sender.id, recipient_id=recipient.id,
                        body=body, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def forum_post(course, author, body="A question body.", title="A question") -> Post:
    thread = discussions.start_thread(author, course, title=title, body=body)
    db.session.commit()
    return thread.posts[0]


def course_review(course, learner, rating=1, body="Terrible, a scam.") -> Review:
    review = reviews.write_review(learner, course, rating=rating, body=body)
    db.session.commit()
    return review


def reported(reporter, target_type, target_id, reason="Rude", *, at=None, status="open") -> Report:
    """A report row as `report_content()` would store it (bypassing its target checks, for queue setup)."""
    row = Report(reporter_id=reporter.id, target_type=target_type, target_id=target_id, reason=reason,
                 status=status, created_at=at or T0)
    db.session.add(row)
    db.session.commit()
    return row

