"""The public catalog: search (every filter and sort of the catalog page), a course with its
syllabus, categories, creators. No token needed; with one, a course that is not public yet
is shown to whoever the page would show it to (its creator, reviewers, its learners)."""
from __future__ import annotations

from enum import Enum
from typing import Literal

from flask import g, url_for
from pydantic import Field

from app.blueprints.api import bp
from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.openapi import ApiModel, CursorQuery, Page, operation
from app.blueprints.api.problems import problem
from app.blueprints.api.schemas import Amount, Person, Time
from app.catalog.models import COURSE_STATUSES, LANGUAGES, LESSON_KINDS, LEVELS
from app.catalog.queries import categories
from app.discovery.queries import creator_summary, public_creator, viewable_course
from app.discovery.search import MAX_QUERY_CHARS, PRICES, SORTS, CatalogQuery, CourseCard, search_courses
from app.discovery.search.query import category_slugs
from app.learning.stats import stats_for

TAG = "Catalog"
Sort = Enum("Sort", {name: name for name in SORTS}, type=str)
Level = Enum("Level", {name: name for name in LEVELS}, type=str)
Language = Enum("Language", {name: name for name in LANGUAGES}, type=str)
CourseStatus = Enum("CourseStatus", {name: name for name in COURSE_STATUSES}, type=str)
LessonKind = Enum("LessonKind", {name: name for name in LESSON_KINDS}, type=str)


class CourseSearch(CursorQuery):
    q: str = Field("", max_length=MAX_QUERY_CHARS, description="Words to find; `-word` excludes a word")
    price: Literal[tuple(PRICES)] | None = Field(None, description="Only free or only paid courses")
    min_price: int | None = Field(None, ge=0, le=100_000_000, description="In minor units")
    max_price: int | None = Field(None, ge=0, le=100_000_000, description="In minor units")
    min_rating: int | None = Field(None, ge=1, le=5, description="Whole stars")
    category: str | None = Field(None, max_length=70, description="A category's slug (GET /api/v1/categories)")
    creator: int | None = Field(None, ge=1, le=2**31 - 1, description="A creator's id")
    level: Level | None = None
    language: Language | None = None
    sort: Sort | None = Field(None, description="Default: relevance with `q`, trending without")


class CourseSummary(ApiModel):
    id: int
    slug: str
    title: str
    subtitle: str
    cover_url: str | None
    creator: Person
    price: Amount
    level: Level
    rating_average: float = Field(description="0 when nobody has rated it")
    rating_count: int
    learners: int
    duration_seconds: int


class FacetValue(ApiModel):
    value: str
    label: str
    count: int = Field(description="Courses this value would give, the other filters applied")


class CourseResults(Page):
    items: list[CourseSummary]
    total: int
    facets: dict[str, list[FacetValue]] = Field(description="Per filter: category, level, language, price, rating")
    corrected_q: str | None = Field(None, description="When nothing matched `q`: the words searched instead")


class LessonOutline(ApiModel):
    id: int
    title: str
    kind: LessonKind
    duration_seconds: int
    is_free_preview: bool


class SectionOutline(ApiModel):
    id: int
    title: str
    lessons: list[LessonOutline]


class Category(ApiModel):
    slug: str
    name: str


class CourseDetail(CourseSummary):
    description: str = Field(description="Markdown")
    language: Language
    category: Category | None
    status: CourseStatus
    published_at: Time | None
    syllabus: list[SectionOutline]


class CategoryList(ApiModel):
    items: list[Category]


class CreatorProfile(ApiModel):
    id: int
    display_name: str
    headline: str
    bio: str = Field(description="Markdown")
    avatar_url: str | None
    published_courses: int
    learners: int
    rating_average: float
    rating_count: int
    courses: list[CourseSummary]


@bp.get("/courses")
@operation(tags=[TAG], query=CourseSearch, model=CourseResults)
def search(query: CourseSearch):
    """Search the catalog

    The catalog page's search: full text, filters, sorts and facets, a page at a time."""
    if query.category and query.category not in category_slugs():
        raise problem(422, f"There is no category {query.category!r}; GET /api/v1/categories lists them.")
    position = decode_cursor(query.cursor, kind="courses") or {"page": 1}
    wanted = CatalogQuery(q=" ".join(query.q.split()), price=query.price or "", min_price=query.min_price,
                          max_price=query.max_price, min_rating=query.min_rating,
                          category=query.category or "", creator=query.creator,
                          level=query.level.value if query.level else "",
                          language=query.language.value if query.language else "",
                          sort=query.sort.value if query.sort else "", page=position["page"])
    results = search_courses(wanted, per_page=query.limit)
    more = results.page < results.pages and results.page == position["page"]
    return CourseResults(
        items=[_summary(card) for card in results.cards] if results.page == position["page"] else [],
        total=results.total,
        facets={name: [FacetValue(value=value, label=label, count=count) for value, label, count in values]
                for name, values in results.facets.items()},
        corrected_q=results.corrected_q,
        next_cursor=encode_cursor({"kind": "courses", "page": results.page + 1}) if more else None)


@bp.get("/courses/<slug>")
@operation(tags=[TAG], model=CourseDetail, not_found=True, optional_token=True)
def course(slug: str):
    """A course with its syllabus

    Published courses for anyone; a draft or one under review only for its creator and
    reviewers, and a course taken down for its learners."""
    actor = g.api_grant.user if g.api_grant else None
    found = viewable_course(actor, slug)
    stats = stats_for(found.id)
    return CourseDetail(
        id=found.id, slug=found.slug, title=found.title, subtitle=found.subtitle,
        cover_url=url_for("catalog.cover", key=found.cover.storage_key) if found.cover else None,
        creator=Person(id=found.creator.id, display_name=found.creator.display_name,
                       headline=found.creator.headline),
        price=Amount.of(found.price_minor, found.currency), level=found.level,
        rating_average=round(stats.average, 2), rating_count=stats.rating_count, learners=stats.learners,
        duration_seconds=sum(lesson.duration_seconds for lesson in found.lessons),
        description=found.description, language=found.language,
        category=Category(slug=found.category.slug, name=found.category.name) if found.category else None,
        status=found.status, published_at=found.published_at,
        syllabus=[SectionOutline(id=section.id, title=section.title, lessons=[
            LessonOutline(id=lesson.id, title=lesson.title, kind=lesson.kind,
                          duration_seconds=lesson.duration_seconds, is_free_preview=lesson.is_free_preview)
            for lesson in section.lessons]) for section in found.sections])


@bp.get("/categories")
@operation(tags=[TAG], model=CategoryList)
def category_list():
    """Categories

    Every category, in the catalog's order; filter the search with a slug."""
    return CategoryList(items=[Category(slug=item.slug, name=item.name) for item in categories()])


@bp.get("/creators/<int:creator_id>")
@operation(tags=[TAG], model=CreatorProfile, not_found=True)
def creator(creator_id: int):
    """A creator's public profile

    Their bio and figures and their published courses, best rated first."""
    found, results = public_creator(creator_id)
    summary = creator_summary(found.id)
    return CreatorProfile(
        id=found.id, display_name=found.display_name, headline=found.headline, bio=found.bio,
        avatar_url=url_for("main.avatar", key=found.avatar_key) if found.avatar_key else None,
        published_courses=summary["courses"], learners=summary["learners"],
        rating_average=round(summary["rating_average"], 2), rating_count=summary["rating_count"],
        courses=[_summary(card) for card in results.cards])


def _summary(card: CourseCard) -> CourseSummary:
    return CourseSummary(
        id=card.id, slug=card.slug, title=card.title, subtitle=card.subtitle,
        cover_url=url_for("catalog.cover", key=card.cover_key) if card.cover_key else None,
        creator=Person(id=card.creator_id, display_name=card.creator_name),
        price=Amount.of(card.price_minor, card.currency), level=card.level,
        rating_average=round(card.rating_average, 2), rating_count=card.rating_count,
        learners=card.learners, duration_seconds=card.duration_seconds)
