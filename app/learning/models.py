from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Course, Lesson
from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

ENROLLMENT_SOURCES = ("free", "purchase", "admin")


class Enrollment(db.Model):
    __tablename__ = "enrollment"
    __table_args__ = (sa.UniqueConstraint("course_id", "learner_id"),
                      sa.Index("ix_enrollment_learner_active", "learner_id", "revoked_at"),
                      sa.Index("ix_enrollment_course_activity", "course_id", "last_activity_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(10))
    # none (free/admin) | paid | refunded | disputed — kept by the money issue's services
    payment_status: Mapped[str] = mapped_column(sa.String(10), default="none")
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lesson.id", ondelete="SET NULL"))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship()
    learner: Mapped[User] = relationship()
    progress_rows: Mapped[list[LessonProgress]] = relationship(
        back_populates="enrollment", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollment.id", ondelete="CASCADE"),
                                               index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position_seconds: Mapped[int] = mapped_column(default=0)  # where the video was left
    watched_seconds: Mapped[int] = mapped_column(default=0, server_default="0")  # furthest point reached
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    enrollment: Mapped[Enrollment] = relationship(back_populates="progress_rows")
    lesson: Mapped[Lesson] = relationship()


DELIVERY_KINDS = ("opened", "file", "watched")


class LessonDelivery(db.Model):
    """What a learner took of a lesson, once per kind: the page opened, its file (video or PDF)
    sent, its video played past the threshold. The refund rule counts these, not only the
    lessons marked complete (a file downloaded is kept whatever the progress bar says)."""

    __tablename__ = "lesson_delivery"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # one of DELIVERY_KINDS
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollment.id", ondelete="CASCADE"),
                                               index=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict] = mapped_column(sa.JSON)  # {question_id: [option_id, ...]}
    correct_count: Mapped[int]
    question_count: Mapped[int]
    score_percent: Mapped[int]
    passed: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Thread(db.Model):
    """A question on a course's discussion board; its first post is the question's body."""

    __tablename__ = "discussion_thread"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lesson.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    answer_post_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("discussion_post.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()
    lesson: Mapped[Lesson | None] = relationship()
    course: Mapped[Course] = relationship()
    posts: Mapped[list[Post]] = relationship(back_populates="thread", order_by="Post.id",
                                             foreign_keys="Post.thread_id",
                                             cascade="all, delete-orphan")


class Post(db.Model):
    __tablename__ = "discussion_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("discussion_thread.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    votes: Mapped[int] = mapped_column(default=0)  # cached count of PostVote rows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    thread: Mapped[Thread] = relationship(back_populates="posts", foreign_keys=[thread_id])
    author: Mapped[User | None] = relationship()


class PostVote(db.Model):
    __tablename__ = "discussion_vote"
    __table_args__ = (sa.UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("discussion_post.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))


class Review(db.Model):
    __tablename__ = "review"
    __table_args__ = (sa.UniqueConstraint("course_id", "learner_id"),
                      sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text, default="")
    progress_percent: Mapped[int] = mapped_column(default=0)  # the reviewer's progress when writing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    learner: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


class CourseStats(db.Model):
    """Per-course aggregates kept in one place, updated in the transaction that changes them."""

    __tablename__ = "course_stats"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"),
                                           primary_key=True)
    learners: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_1: Mapped[int] = mapped_column(default=0)
    rating_2: Mapped[int] = mapped_column(default=0)
    rating_3: Mapped[int] = mapped_column(default=0)
    rating_4: Mapped[int] = mapped_column(default=0)
    rating_5: Mapped[int] = mapped_column(default=0)
    # Bayesian-smoothed rating for ranking, × 1000 (an integer keeps ordering exact).
    rating_score: Mapped[int] = mapped_column(default=0, index=True)
    # Time-decayed engagement, × 1000, recomputed by the periodic discovery job.
    trending_score: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)

    @property
    def average(self) -> float:
        return self.rating_sum / self.rating_count if self.rating_count else 0.0

    @property
    def histogram(self) -> dict[int, int]:
        return {n: getattr(self, f"rating_{n}") for n in range(5, 0, -1)}


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)  # unguessable public id
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollment.id", ondelete="CASCADE"),
                                               unique=True)
    learner_name: Mapped[str] = mapped_column(sa.String(80))
    course_title: Mapped[str] = mapped_column(sa.String(120))
    creator_name: Mapped[str] = mapped_column(sa.String(80))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()
