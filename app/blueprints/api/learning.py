"""Learning: my enrollments and their progress, enrolling in a free course, a lesson's content,
completing lessons and the video position (quiz attempts: quizzes.py; certificates:
certificates.py; reviews and discussions in their own modules). The same services
as the player (blueprints/learn/): a lesson is open to whoever the player opens it for (its
free preview, the enrolled, the creator and reviewers), and answers like the player does: a
course or lesson that does not exist is a 404, a lesson the caller may not open is a 403
(the course and its syllabus are public, so this tells nothing a visitor cannot see), and
another learner's enrollment is a 404."""
from __future__ import annotations

from enum import Enum

from flask import g, url_for
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.catalog import LessonKind
from app.blueprints.api.keysets import cursor_after, position_after
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.schemas import Person, Time
from app.blueprints.media import send_lesson_media
from app.catalog.models import QUESTION_KINDS, Course
from app.catalog.queries import get_course
from app.dbtypes import utcnow, writes_on_get
from app.extensions import db
from app.learning import attempts, certificates, enrollment, progress
from app.learning.models import Enrollment
from app.learning.queries import completed_lesson_ids, enrollments_page

TAG = "Learning"
QuestionKind = Enum("QuestionKind", {name: name for name in QUESTION_KINDS}, type=str)


# --- models --------------------------------------------------------------------------

class EnrolledCourse(ApiModel):
    id: int
    slug: str
    title: str
    cover_url: str | None
    creator: Person


class EnrollmentSummary(ApiModel):
    id: int
    course: EnrolledCourse
    source: str = Field(description="`free`, `purchase` or `admin` (granted)")
    enrolled_at: Time
    completed_at: Time | None
    progress_percent: int = Field(description="Lessons completed over all lessons, 100 once completed")
    next_lesson_id: int | None = Field(description="Where \"continue\" goes; null without lessons")
    certificate_id: int | None = Field(description="Once the course is completed")


class EnrollmentList(Page):
    items: list[EnrollmentSummary]


class LessonProgressItem(ApiModel):
    lesson_id: int
    title: str
    kind: LessonKind
    completed: bool
    position_seconds: int = Field(description="Where the video was left (0 for other kinds)")


class CourseProgressFigures(ApiModel):
    course_id: int
    enrollment_id: int
    percent: int
    completed_lessons: int
    total_lessons: int
    completed_at: Time | None
    last_activity_at: Time | None
    next_lesson_id: int | None
    lessons: list[LessonProgressItem]


class EnrollmentDetail(EnrollmentSummary):
    progress: CourseProgressFigures


class NewEnrollment(ApiModel):
    course_id: int = Field(ge=1, le=2**31 - 1, description="A free, published course")


class VideoPosition(ApiModel):
    position_seconds: int = Field(ge=0, le=progress.MAX_POSITION_SECONDS)


class QuizOptionText(ApiModel):
    id: int
    text: str


class QuizQuestionText(ApiModel):
    id: int
    kind: QuestionKind = Field(description="`multiple`: choose every right option; otherwise exactly one")
    prompt: str
    options: list[QuizOptionText]


class LessonQuiz(ApiModel):
    pass_mark_percent: int
    best_score_percent: int | None = Field(description="Your best attempt; null before the first")
    questions: list[QuizQuestionText] = Field(description="Without the answers: they come with a graded attempt")


class LessonContent(ApiModel):
    id: int
    course_id: int
    title: str
    kind: LessonKind
    duration_seconds: int
    is_free_preview: bool
    body: str | None = Field(description="A text lesson's Markdown")
    media_url: str | None = Field(description="A video or PDF lesson's file (HTTP Range supported)")
    quiz: LessonQuiz | None
    enrolled: bool = Field(description="False when seen as a free preview (or by its creator)")
    completed: bool
    position_seconds: int
    previous_lesson_id: int | None
    next_lesson_id: int | None


# --- enrollments ---------------------------------------------------------------------

@bp.get("/enrollments")
@operation(tags=[TAG], scope="read", query=CursorQuery, model=EnrollmentList)
def enrollment_list(query: CursorQuery):
    """My enrollments

    The courses I am enrolled in, the latest enrolled first."""
    rows = enrollments_page(g.api_grant.user.id, after=position_after(query, "enrollments"), limit=query.limit + 1)
    return EnrollmentList(items=[_enrollment_summary(row) for row in rows[:query.limit]],
                          next_cursor=cursor_after(rows, query.limit, "enrollments", lambda row: row.enrolled_at))


@bp.post("/enrollments")
@operation(tags=[TAG], scope="learn", json=NewEnrollment, model=EnrollmentDetail, ok=201, not_found=True,
           conflict=True)
def enrollment_create(json: NewEnrollment):
    """Enroll in a free course

    As the course page's Enroll button; enrolling again gives the same enrollment. A paid
    course is a 409: buy it through checkout to enroll."""
    found = enrollment.enroll(g.api_grant.user, get_course(json.course_id), source="free")
    db.session.commit()
    return _enrollment_detail(found), 201


@bp.get("/enrollments/<int:enrollment_id>")
@operation(tags=[TAG], scope="read", model=EnrollmentDetail, not_found=True)
def enrollment_detail(enrollment_id: int):
    """One of my enrollments, with its progress"""
    return _enrollment_detail(enrollment.access_enrollment(g.api_grant.user, enrollment_id))


# --- progress and lessons ------------------------------------------------------------

@bp.get("/courses/<int:course_id>/progress")
@operation(tags=[TAG], scope="read", model=CourseProgressFigures, not_found=True)
def course_progress(course_id: int):
    """My progress in a course

    The player's syllabus figures; a 403 when not enrolled."""
    return _progress(progress.require_enrollment(g.api_grant.user, get_course(course_id)))


@bp.get("/courses/<int:course_id>/lessons/<int:lesson_id>")
@writes_on_get  # records the lesson as opened, as the player does
@operation(tags=[TAG], scope="read", model=LessonContent, not_found=True)
def lesson_content(course_id: int, lesson_id: int):
    """A lesson's content

    For the enrolled (it counts as opened, as in the player), and a free preview for anyone.
    A quiz comes without its answers."""
    user = g.api_grant.user
    access = progress.access_lesson(user, course_id, lesson_id)
    if access.enrollment is not None:
        progress.open_lesson(user, access, now=utcnow())
        db.session.commit()
    return _lesson(access)


@bp.get("/lessons/<int:lesson_id>/media")
@operation(tags=[TAG], optional_token=True, not_found=True, stream="The lesson's video or PDF; `Range` gives a 206",
           media_types=("video/mp4", "video/webm", "application/pdf"))
def lesson_media(lesson_id: int):
    """A lesson's video or PDF

    For its learners, and for anyone when the lesson is a free preview; the same file and
    rules as the player, Range requests included. It counts as delivered for the refund rule."""
    return send_lesson_media(g.api_grant.user if g.api_grant else None, lesson_id)


@bp.post("/courses/<int:course_id>/lessons/<int:lesson_id>/complete")
@operation(tags=[TAG], scope="learn", model=CourseProgressFigures, not_found=True)
def lesson_complete(course_id: int, lesson_id: int):
    """Mark a lesson complete

    A quiz completes by passing it (submit an attempt). Completing the last lesson completes
    the course and issues its certificate."""
    access = progress.access_lesson(g.api_grant.user, course_id, lesson_id)
    found = progress.complete_lesson(g.api_grant.user, access.lesson)
    db.session.commit()
    return _progress(found)


@bp.put("/courses/<int:course_id>/lessons/<int:lesson_id>/position")
@operation(tags=[TAG], scope="learn", json=VideoPosition, ok=204, not_found=True)
def lesson_position(course_id: int, lesson_id: int, json: VideoPosition):
    """Save where a video was left

    What the player sends every few seconds while a video plays; playing past the first
    seconds counts the video as watched."""
    access = progress.access_lesson(g.api_grant.user, course_id, lesson_id)
    progress.save_position(g.api_grant.user, access.lesson, json.position_seconds)
    db.session.commit()
    return "", 204


# --- shaping -------------------------------------------------------------------------

def _course(course: Course) -> EnrolledCourse:
    return EnrolledCourse(id=course.id, slug=course.slug, title=course.title,
                          cover_url=url_for("catalog.cover", key=course.cover.storage_key) if course.cover else None,
                          creator=Person(id=course.creator.id, display_name=course.creator.display_name,
                                         headline=course.creator.headline))


def _enrollment_summary(row: Enrollment, figures: progress.CourseProgress | None = None) -> EnrollmentSummary:
    figures = figures or progress.course_progress(row)
    certificate = certificates.certificate_for(row)
    return EnrollmentSummary(
        id=row.id, course=_course(row.course), source=row.source, enrolled_at=row.enrolled_at,
        completed_at=row.completed_at, progress_percent=figures.percent,
        next_lesson_id=figures.next_lesson.id if figures.next_lesson else None,
        certificate_id=certificate.id if certificate else None)


def _enrollment_detail(row: Enrollment) -> EnrollmentDetail:
    figures = progress.course_progress(row)
    return EnrollmentDetail(**dict(_enrollment_summary(row, figures)), progress=_progress(row, figures))


def _progress(row: Enrollment, figures: progress.CourseProgress | None = None) -> CourseProgressFigures:
    figures = figures or progress.course_progress(row)
    return CourseProgressFigures(
        course_id=row.course_id, enrollment_id=row.id, percent=figures.percent,
        completed_lessons=len({lesson.id for lesson in figures.lessons} & figures.done),
        total_lessons=len(figures.lessons), completed_at=row.completed_at, last_activity_at=row.last_activity_at,
        next_lesson_id=figures.next_lesson.id if figures.next_lesson else None,
        lessons=[LessonProgressItem(lesson_id=lesson.id, title=lesson.title, kind=lesson.kind,
                                    completed=lesson.id in figures.done,
                                    position_seconds=figures.positions.get(lesson.id, 0))
                 for lesson in figures.lessons])


def _lesson(access: progress.LessonAccess) -> LessonContent:
    lesson, enrolled = access.lesson, access.enrollment
    previous, following = progress.neighbours(lesson)
    quiz = None
    if lesson.kind == "quiz" and lesson.quiz is not None:
        quiz = LessonQuiz(
            pass_mark_percent=lesson.quiz.pass_mark_percent,
            best_score_percent=attempts.best_score(enrolled, lesson.quiz),
            questions=[QuizQuestionText(id=question.id, kind=question.kind, prompt=question.prompt,
                                        options=[QuizOptionText(id=option.id, text=option.text)
                                                 for option in question.options])
                       for question in lesson.quiz.questions])
    has_file = lesson.kind in ("video", "pdf") and lesson.media is not None
    return LessonContent(
        id=lesson.id, course_id=access.course.id, title=lesson.title, kind=lesson.kind,
        duration_seconds=lesson.duration_seconds, is_free_preview=lesson.is_free_preview,
        body=lesson.body if lesson.kind == "text" else None,
        media_url=url_for("api.learning_lesson_media", lesson_id=lesson.id) if has_file else None,
        quiz=quiz, enrolled=enrolled is not None,
        completed=enrolled is not None and lesson.id in completed_lesson_ids(enrolled),
        position_seconds=progress.saved_position(enrolled, lesson),
        previous_lesson_id=previous.id if previous else None, next_lesson_id=following.id if following else None)
