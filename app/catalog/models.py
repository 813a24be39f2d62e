from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

COURSE_STATUSES = ("draft", "under_review", "published", "unpublished")
LEVELS = {"all": "All levels", "beginner": "Beginner", "intermediate": "Intermediate",
          "advanced": "Advanced"}
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese",
             "it": "Italian", "nl": "Dutch", "pl": "Polish", "ja": "Japanese", "zh": "Chinese"}
LESSON_KINDS = {"video": "Video", "pdf": "PDF", "text": "Text", "quiz": "Quiz"}
QUESTION_KINDS = {"single": "Single choice", "multiple": "Multiple choice",
                  "true_false": "True / false"}


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(70), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class MediaAsset(db.Model):
    """An uploaded file: stored under a random key, typed by sniffing its content."""

    __tablename__ = "media_asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # video | pdf | image
    content_type: Mapped[str] = mapped_column(sa.String(80))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_name: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Course(db.Model):
    __tablename__ = "course"
    __table_args__ = (
        sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
        sa.CheckConstraint("commission_bps_override IS NULL OR "
                           "(commission_bps_override >= 0 AND commission_bps_override <= 10000)",
                           name="commission_in_range"),
        sa.Index("ix_course_status_published_at", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(140), unique=True)
    subtitle: Mapped[str] = mapped_column(sa.String(200), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id", ondelete="SET NULL"),
                                                    index=True)
    level: Mapped[str] = mapped_column(sa.String(20), default="all")
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    cover_asset_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("media_asset.id", ondelete="SET NULL"))
    price_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # 0 means free
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    commission_bps_override: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpublished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    creator: Mapped[User] = relationship()
    category: Mapped[Category | None] = relationship()
    cover: Mapped[MediaAsset | None] = relationship()
    sections: Mapped[list[Section]] = relationship(
        back_populates="course", order_by="Section.position", cascade="all, delete-orphan")
    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="course", order_by="ReviewDecision.id.desc()", cascade="all, delete-orphan")

    @property
    def is_free(self) -> bool:
        return self.price_minor == 0

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for section in self.sections for lesson in section.lessons]

    @property
    def last_rejection(self) -> ReviewDecision | None:
        latest = self.decisions[0] if self.decisions else None
        return latest if latest is not None and latest.decision == "rejected" else None


class Section(db.Model):
    __tablename__ = "section"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    course: Mapped[Course] = relationship(back_populates="sections")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="section", order_by="Lesson.position", cascade="all, delete-orphan")


class Lesson(db.Model):
    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(sa.ForeignKey("section.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(10))
    position: Mapped[int] = mapped_column(default=0)
    duration_seconds: Mapped[int] = mapped_column(default=0)
    is_free_preview: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, for text lessons
    media_asset_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("media_asset.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(viewonly=True)
    section: Mapped[Section] = relationship(back_populates="lessons")
    media: Mapped[MediaAsset | None] = relationship()
    quiz: Mapped[Quiz | None] = relationship(back_populates="lesson", cascade="all, delete-orphan",
                                             uselist=False)


class Quiz(db.Model):
    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lesson.id", ondelete="CASCADE"), unique=True)
    pass_mark_percent: Mapped[int] = mapped_column(default=70)

    lesson: Mapped[Lesson] = relationship(back_populates="quiz")
    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="quiz", order_by="QuizQuestion.position", cascade="all, delete-orphan")


class QuizQuestion(db.Model):
    __tablename__ = "quiz_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(12), default="single")
    prompt: Mapped[str] = mapped_column(sa.Text)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    options: Mapped[list[QuizOption]] = relationship(
        back_populates="question", order_by="QuizOption.position", cascade="all, delete-orphan")


class QuizOption(db.Model):
    __tablename__ = "quiz_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_question.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.String(500))
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[QuizQuestion] = relationship(back_populates="options")


class ReviewDecision(db.Model):
    """An admin's decision on a submitted course: approved, or rejected with reasons."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(sa.String(10))  # approved | rejected
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when the course was submitted for this decision: the review queue's time to decision
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(back_populates="decisions")
    reviewer: Mapped[User | None] = relationship()


class SearchTerm(db.Model):
    """Words of published courses' titles, subtitles and categories: the vocabulary that
    "did you mean" corrects typos against (refreshed by the periodic discovery job)."""

    __tablename__ = "search_term"

    term: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    frequency: Mapped[int] = mapped_column(default=0)


class CourseAffinity(db.Model):
    """"Learners who took this also took": co-enrollment counts, computed by a job."""

    __tablename__ = "course_affinity"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"),
                                           primary_key=True)
    other_course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"),
                                                 primary_key=True)
    shared_learners: Mapped[int] = mapped_column(default=0)
