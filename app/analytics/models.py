"""Daily rollups: every figure on the analytics pages is a sum over these rows.

They are kept up to date on each event (`rollups.bump`, an atomic upsert that adds) and can be
rebuilt for any range of days from the source tables by a job, so a missed event or a bug fix
never leaves a figure wrong for good. No page view scans orders or lesson-progress rows.

Days are UTC dates. Money is in minor units of the course's currency (one course, one currency).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


def _count() -> Mapped[int]:
    return mapped_column(sa.BigInteger, default=0, server_default="0")


class CourseDay(db.Model):
    """One course's day: traffic, money (as the ledger booked it), learners, reviews, Q&A."""

    __tablename__ = "analytics_course_day"
    __table_args__ = (sa.Index("ix_analytics_course_day_creator_day", "creator_id", "day"),
                      sa.Index("ix_analytics_course_day_day", "day"))

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    creator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    # traffic (counted on our side; no personal data is kept for it)
    page_views: Mapped[int] = _count()
    checkouts: Mapped[int] = _count()  # checkout sessions started
    # money, booked from the ledger's transactions of that day
    sales: Mapped[int] = _count()  # orders paid
    gross: Mapped[int] = _count()  # prices paid
    commission: Mapped[int] = _count()  # the platform's commission on those sales
    refunds: Mapped[int] = _count()  # returned to buyers (refunds and lost disputes)
    refunded_commission: Mapped[int] = _count()  # commission given back with them
    creator_net: Mapped[int] = _count()  # the creator's ledger movement from sales, refunds and disputes
    refund_count: Mapped[int] = _count()
    # learners
    enrollments: Mapped[int] = _count()
    completions: Mapped[int] = _count()
    # reviews and Q&A
    reviews: Mapped[int] = _count()  # reviews written that day
    rating_sum: Mapped[int] = _count()  # their stars (edits move the difference)
    questions: Mapped[int] = _count()  # discussion threads opened
    first_answers: Mapped[int] = _count()  # threads answered for the first time


class SourceDay(db.Model):
    """Where a course's visitors and buyers came from: a referrer domain, `direct`, or a
    `?ref=` campaign name (and coupon and referral codes once they exist)."""

    __tablename__ = "analytics_source_day"
    __table_args__ = (sa.Index("ix_analytics_source_day_creator_day", "creator_id", "day"),)

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    creator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    page_views: Mapped[int] = _count()
    checkouts: Mapped[int] = _count()
    sales: Mapped[int] = _count()


class PlatformDay(db.Model):
    """The platform's day for the admin: people, the review queue, moderation, disputes, payouts."""

    __tablename__ = "analytics_platform_day"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    new_learners: Mapped[int] = _count()  # accounts created
    new_creators: Mapped[int] = _count()  # users whose first course was published that day
    submissions: Mapped[int] = _count()  # courses submitted for review
    approvals: Mapped[int] = _count()
    rejections: Mapped[int] = _count()
    reports_opened: Mapped[int] = _count()
    reports_resolved: Mapped[int] = _count()
    disputes_opened: Mapped[int] = _count()
    disputes_lost: Mapped[int] = _count()
    payouts_sent: Mapped[int] = _count()


class DurationDay(db.Model):
    """How long things took, as counts per whole hour, so a median over any period is a sum.

    metric: `completion` (enrolment to completion, scope = course id), `first_answer` (question
    to its first answer by someone else, scope = course id), `review_decision` (submission to
    decision, scope = 0)."""

    __tablename__ = "analytics_duration_day"

    metric: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    scope_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    hours: Mapped[int] = mapped_column(primary_key=True)  # whole hours, capped (rollups.MAX_HOURS)
    count: Mapped[int] = _count()


class LessonReach(db.Model):
    """Per lesson, since the course began: how many enrolments reached it (opened it) and
    completed it, and for videos the furthest share watched (sum of per-mille values)."""

    __tablename__ = "analytics_lesson_reach"

    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    reached: Mapped[int] = _count()
    completed: Mapped[int] = _count()
    watched_permille_sum: Mapped[int] = _count()
    watched_count: Mapped[int] = _count()


class QuestionStats(db.Model):
    """Per quiz question: how many submitted attempts answered it, and how many got it right."""

    __tablename__ = "analytics_question_stats"

    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_question.id", ondelete="CASCADE"),
                                             primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    answered: Mapped[int] = _count()
    correct: Mapped[int] = _count()


class QuizStats(db.Model):
    """Per quiz: attempts and passes (every attempt counts)."""

    __tablename__ = "analytics_quiz_stats"

    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    attempts: Mapped[int] = _count()
    passed: Mapped[int] = _count()
