"""Public course pages (the discovery issue adds the catalog itself), previews and media."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user

from app.blueprints.caching import public_page_cache
from app.blueprints.catalog import bp
from app.blueprints.htmx import page_arg, render_page
from app.blueprints.media import send_lesson_media, send_stored
from app.blueprints.traffic import count_cached_course_view, count_course_view
from app.catalog.models import LANGUAGES, LESSON_KINDS, LEVELS, Category, MediaAsset
from app.catalog.permissions import can_preview_course, can_view_lesson
from app.catalog.queries import categories, get_course, get_lesson
from app.discovery.queries import creator_summary, viewable_course
from app.discovery.recommendations import also_took
from app.discovery.search import PRICES, QUERY_ARGS, RATINGS, SORTS, parse_query, search_courses
from app.extensions import db
from app.learning.queries import active_enrollment
from app.learning.reviews import list_reviews
from app.learning.stats import stats_for
from app.policy import require


@bp.get("/<int:course_id>/preview")
def course_preview(course_id: int):
    """The course as a learner sees it, every lesson playable: for its creator and reviewers."""
    course = get_course(course_id)
    require(can_preview_course(current_user, course), "preview this course")
    return render_template("catalog/course_preview.html", course=course, lesson=None,
                           lesson_kinds=LESSON_KINDS)


@bp.get("/<int:course_id>/preview/lessons/<int:lesson_id>")
def lesson_preview(course_id: int, lesson_id: int):
    lesson = get_lesson(lesson_id)
    if lesson.course_id != course_id:
        abort(404)
    require(can_view_lesson(current_user, lesson), "view this lesson")
    return render_template("catalog/course_preview.html", course=lesson.section.course,
                           lesson=lesson, lesson_kinds=LESSON_KINDS)


@bp.get("/lessons/<int:lesson_id>/media")
def lesson_media(lesson_id: int):
    """A lesson's video or PDF, only for those `can_view_lesson` allows (Range-served):
    the enrolled too, so the player's <video> and <object> can load paid lessons."""
    return send_lesson_media(current_user, lesson_id)


@bp.get("/covers/<key>")
def cover(key: str):
    """Cover images: public, under unguessable names."""
    asset = db.session.scalar(sa.select(MediaAsset).where(MediaAsset.storage_key == key,
                                                          MediaAsset.kind == "image"))
    if asset is None:
        abort(404)
    return send_stored(asset.storage_key, asset.content_type, filename=asset.original_name,
                       cache="public, max-age=86400, immutable")


def catalog_page(query, notes, *, category=None):
    results = search_courses(query)
    results.notes = notes
    endpoint, base = ("catalog.category_detail", {"slug": category.slug}) if category else \
        ("catalog.course_list", {})

    def page_url(**args) -> str:
        return url_for(endpoint, **base, **args)

    return render_page("catalog/course_list.html", "results", results=results, category=category,
                       sorts=SORTS, prices=PRICES, ratings=RATINGS, levels=LEVELS,
                       languages=LANGUAGES, categories=categories(), page_url=page_url)


@bp.get("/")
@public_page_cache(QUERY_ARGS)
def course_list():
    """The public catalog: every state lives in the query string."""
    query, notes = parse_query(request.args)
    return catalog_page(query, notes)


@bp.get("/categories/<slug>")
@public_page_cache(name for name in QUERY_ARGS if name != "category")  # the path names it
def category_detail(slug: str):
    category = db.session.scalar(sa.select(Category).where(Category.slug == slug))
    if category is None:
        abort(404)
    query, notes = parse_query({**request.args.to_dict(), "category": slug})
    return catalog_page(query, notes, category=category)


@bp.get("/<slug>")
@public_page_cache(("reviews",), on_hit=count_cached_course_view)
def course_detail(slug: str):
    """The public course page: description, syllabus with free previews, creator, reviews,
    the enroll/buy box, "learners also took", JSON-LD and Open Graph. A visitor's copy is
    cached a few seconds; every view is counted for the creator's analytics, cached or not."""
    course = viewable_course(current_user, slug)
    count_course_view(course)
    stats = stats_for(course.id)
    return render_page("catalog/course_detail.html", "course_reviews", course=course, stats=stats,
                       json_ld=course_json_ld(course, stats), enrollment=active_enrollment(current_user, course),
                       reviews=list_reviews(course, page=page_arg("reviews")),
                       also=also_took(course), lesson_kinds=LESSON_KINDS, levels=LEVELS,
                       languages=LANGUAGES, creator_stats=creator_summary(course.creator_id))


def course_json_ld(course, stats) -> dict:
    """schema.org `Course` structured data for search engines."""
    data = {
        "@context": "https://schema.org", "@type": "Course", "name": course.title,
        "description": course.subtitle or course.title,
        "url": url_for("catalog.course_detail", slug=course.slug, _external=True),
        "inLanguage": course.language,
        "provider": {"@type": "Organization", "name": "Lyceum"},
        "creator": {"@type": "Person", "name": course.creator.display_name},
        "offers": {"@type": "Offer", "category": "Free" if course.is_free else "Paid",
                   "price": f"{course.price_minor / 100:.2f}", "priceCurrency": course.currency},
    }
    if stats.rating_count:
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": f"{stats.average:.1f}",
                                   "ratingCount": stats.rating_count}
    return data
