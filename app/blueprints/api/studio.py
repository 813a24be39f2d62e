"""The studio: a creator's courses, their details, price and split, cover, and review.

The same services as the studio pages (app/catalog/courses.py, editing.py, publishing.py,
app/commerce/commission.py); a course under review is locked for every caller alike.
Another creator's course is a 404 here (the API does not confirm it exists).
"""
from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from flask import g, request, url_for
from pydantic import Field, WithJsonSchema

from app.blueprints.api import bp
from app.blueprints.api.catalog import Category, CourseStatus, Language, LessonKind, Level
from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.problems import mine_or_404, problem
from app.blueprints.api.schemas import Amount, Time
from app.blueprints.limits import raise_upload_cap
from app.catalog import courses as course_service
from app.catalog import publishing
from app.catalog.editing import access_course_for_edit, is_locked_for_editing
from app.catalog.media import lesson_upload_limit, max_bytes
from app.catalog.models import Category as CategoryRow
from app.catalog.models import Course, Lesson
from app.commerce.commission import split_for_course
from app.extensions import db

TAG = "Studio"

# A file in a multipart form: the form model's schema says so; the view reads request.files.
UploadFile = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]


class StudioLesson(ApiModel):
    id: int
    title: str
    kind: LessonKind
    position: int
    duration_seconds: int
    is_free_preview: bool
    body: str | None = Field(description="Markdown, for text lessons; null for the other kinds")
    media_url: str | None = Field(description="The uploaded video or PDF, for video and PDF lessons")
    has_content: bool


class StudioSection(ApiModel):
    id: int
    title: str
    position: int
    lessons: list[StudioLesson]


class ChecklistEntry(ApiModel):
    done: bool
    label: str


class StudioCourse(ApiModel):
    id: int
    slug: str
    title: str
    subtitle: str
    description: str
    category: Category | None
    level: Level
    language: Language
    price: Amount
    cover_url: str | None
    status: CourseStatus
    locked: bool = Field(description="True while the course waits for a reviewer: nothing can change")
    created_at: Time
    updated_at: Time
    submitted_at: Time | None
    published_at: Time | None
    checklist: list[ChecklistEntry] = Field(description="What review needs; submit when every entry is done")
    sections: list[StudioSection]


class StudioCourseItem(ApiModel):
    id: int
    slug: str
    title: str
    status: CourseStatus
    price: Amount
    updated_at: Time


class StudioCourseList(Page):
    items: list[StudioCourseItem]


class NewCourse(ApiModel):
    title: str = Field(min_length=1, max_length=500)
    category: str = Field(max_length=70, description="A category's slug")
    accept_terms: bool = Field(False, description="Required with your first course: the creator terms")


class CourseChanges(ApiModel):
    """Only the fields sent change; each is checked before any is saved."""

    title: str | None = Field(None, max_length=500)
    subtitle: str | None = Field(None, max_length=5000)
    description: str | None = Field(None, max_length=200_000)
    category: str | None = Field(None, max_length=70, description="A category's slug")
    level: Level | None = None
    language: Language | None = None


class PriceChange(ApiModel):
    price_minor: int = Field(ge=0, le=10**12, description="0 makes the course free")


class SplitQuery(ApiModel):
    price_minor: int | None = Field(None, ge=0, le=10**12, description="Default: the course's price")


class Split(ApiModel):
    """What a sale at `price` pays: the platform's commission and the creator's share."""

    price: Amount
    commission_rate_bps: int = Field(description="Basis points: 1500 is 15%")
    commission: Amount
    creator_share: Amount


class CoverUpload(ApiModel):
    file: UploadFile = Field(description="PNG, JPEG or WebP")


@bp.url_value_preprocessor
def upload_caps(endpoint: str | None, values: dict | None) -> None:
    """An upload's size cap, set from its Content-Length before the body is read."""
    limit = None
    if endpoint == "api.studio_cover":
        limit = max_bytes("image")
    elif endpoint == "api.studio_curriculum_lesson_media" and values:
        limit = lesson_upload_limit(db.session.get(Lesson, values.get("lesson_id")))
    if limit is not None:
        raise_upload_cap(limit)


@bp.get("/studio/courses")
@operation(tags=[TAG], scope="read", query=CursorQuery, model=StudioCourseList)
def course_list(query: CursorQuery):
    """My courses

    Every course I created, most recently changed first."""
    position = decode_cursor(query.cursor, kind="studio-courses")
    stmt = sa.select(Course).where(Course.creator_id == g.api_grant.user.id).order_by(Course.id.desc())
    if position:
        stmt = stmt.where(Course.id < position["before"])
    rows = list(db.session.scalars(stmt.limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return StudioCourseList(
        items=[StudioCourseItem(id=c.id, slug=c.slug, title=c.title, status=c.status,
                                price=Amount.of(c.price_minor, c.currency), updated_at=c.updated_at)
               for c in rows],
        next_cursor=encode_cursor({"kind": "studio-courses", "before": rows[-1].id}) if more else None)


@bp.post("/studio/courses")
@operation(tags=[TAG], scope="teach", json=NewCourse, model=StudioCourse, ok=201)
def course_create(json: NewCourse):
    """Create a course

    A new draft. Your first course needs `accept_terms`: the creator terms."""
    course = course_service.create_course(g.api_grant.user, title=json.title,
                                          category_id=_category_id(json.category),
                                          accept_terms=json.accept_terms)
    db.session.commit()
    return studio_course(course), 201


@bp.get("/studio/courses/<int:course_id>")
@operation(tags=[TAG], scope="read", model=StudioCourse, not_found=True)
def course_detail(course_id: int):
    """One of my courses, as the editor shows it

    Its details, curriculum, whether it is locked, and the review checklist."""
    return studio_course(_my_course(course_id))


@bp.patch("/studio/courses/<int:course_id>")
@operation(tags=[TAG], scope="teach", json=CourseChanges, model=StudioCourse, not_found=True, conflict=True)
def course_update(course_id: int, json: CourseChanges):
    """Change a course's details

    A published course stays live while it changes; one under review is locked (409)."""
    course = _my_course(course_id)
    changes = json.model_dump(exclude_unset=True)
    if "category" in changes:
        changes["category_id"] = _category_id(changes.pop("category"))
    for field, value in changes.items():
        value = value.value if hasattr(value, "value") else value
        if value is None:
            raise problem(422, f"{field}: send a value or leave the field out.")
        course_service.update_course_field(g.api_grant.user, course, field, str(value))
    db.session.commit()
    return studio_course(course)


@bp.put("/studio/courses/<int:course_id>/price")
@operation(tags=[TAG], scope="teach", json=PriceChange, model=StudioCourse, not_found=True, conflict=True)
def course_price(course_id: int, json: PriceChange):
    """Set the price

    In minor units; 0 makes the course free. Within the platform's minimum and maximum."""
    course = _my_course(course_id)
    course_service.set_price(g.api_grant.user, course, json.price_minor)
    db.session.commit()
    return studio_course(course)


@bp.get("/studio/courses/<int:course_id>/split")
@operation(tags=[TAG], scope="read", query=SplitQuery, model=Split, not_found=True)
def course_split(course_id: int, query: SplitQuery):
    """What a sale pays the creator

    The commission calculation the studio shows beside the price: at the course's price,
    or at `price_minor`, with the commission rate that applies to this course today."""
    course = _my_course(course_id)
    split = split_for_course(course, query.price_minor)
    return Split(price=Amount.of(split.price, course.currency), commission_rate_bps=split.rate_bps,
                 commission=Amount.of(split.commission, course.currency),
                 creator_share=Amount.of(split.creator_share, course.currency))


@bp.put("/studio/courses/<int:course_id>/cover")
@operation(tags=[TAG], scope="teach", form=CoverUpload, model=StudioCourse, not_found=True, conflict=True)
def cover(course_id: int):
    """Upload the cover image

    `multipart/form-data` with a `file`: PNG, JPEG or WebP, within the image size limit."""
    course = _my_course(course_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise problem(422, "file: choose an image to upload.")
    course_service.set_cover(g.api_grant.user, course, upload.stream, upload.filename)
    db.session.commit()
    return studio_course(course)


@bp.delete("/studio/courses/<int:course_id>")
@operation(tags=[TAG], scope="teach", ok=204, not_found=True, conflict=True)
def course_delete(course_id: int):
    """Delete a draft

    Only a draft that was never published; a published course is unpublished instead."""
    course_service.delete_course(g.api_grant.user, _my_course(course_id))
    db.session.commit()
    return "", 204


@bp.post("/studio/courses/<int:course_id>/submission")
@operation(tags=[TAG], scope="teach", model=StudioCourse, not_found=True, conflict=True)
def course_submit(course_id: int):
    """Submit for review

    When every checklist entry is done; the course is then locked until a reviewer decides."""
    course = _my_course(course_id)
    publishing.submit_for_review(g.api_grant.user, course)
    db.session.commit()
    return studio_course(course)


@bp.delete("/studio/courses/<int:course_id>/submission")
@operation(tags=[TAG], scope="teach", model=StudioCourse, not_found=True, conflict=True)
def course_withdraw(course_id: int):
    """Withdraw from review

    Back to a draft, unlocked, to change more before submitting again."""
    course = _my_course(course_id)
    publishing.withdraw_submission(g.api_grant.user, course)
    db.session.commit()
    return studio_course(course)


def _my_course(course_id: int) -> Course:
    """One of the token user's courses; anyone else's is a 404, as if it did not exist."""
    return mine_or_404(access_course_for_edit, g.api_grant.user, course_id, what="course")


def _category_id(slug: str) -> int:
    found = db.session.scalar(sa.select(CategoryRow.id).where(CategoryRow.slug == slug))
    if found is None:
        raise problem(422, f"category: there is no category {slug!r}; GET /api/v1/categories lists them.")
    return found


def studio_course(course: Course) -> StudioCourse:
    return StudioCourse(
        id=course.id, slug=course.slug, title=course.title, subtitle=course.subtitle,
        description=course.description,
        category=Category(slug=course.category.slug, name=course.category.name) if course.category else None,
        level=course.level, language=course.language, price=Amount.of(course.price_minor, course.currency),
        cover_url=url_for("catalog.cover", key=course.cover.storage_key) if course.cover else None,
        status=course.status, locked=is_locked_for_editing(course), created_at=course.created_at,
        updated_at=course.updated_at, submitted_at=course.submitted_at, published_at=course.published_at,
        checklist=[ChecklistEntry(done=item.ok, label=item.message) for item in publishing.checklist(course)],
        sections=[StudioSection(id=section.id, title=section.title, position=section.position, lessons=[
            studio_lesson(lesson) for lesson in section.lessons]) for section in course.sections])


def studio_lesson(lesson: Lesson) -> StudioLesson:
    return StudioLesson(
        id=lesson.id, title=lesson.title, kind=lesson.kind, position=lesson.position,
        duration_seconds=lesson.duration_seconds, is_free_preview=lesson.is_free_preview,
        body=lesson.body if lesson.kind == "text" else None,
        media_url=url_for("catalog.lesson_media", lesson_id=lesson.id) if lesson.media_asset_id else None,
        has_content=publishing.lesson_has_content(lesson))

