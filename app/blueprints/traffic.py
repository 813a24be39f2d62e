"""Counting a course page view and remembering where the visitor came from (issue 17, part 1).

The rules are app/analytics/traffic.py's; this reads them off the request: the method, the
User-Agent, htmx's header, the Referer, `?ref=`/`utm_source` and the source cookie. The course
page's view calls `count_course_view(course)`; a visitor served the page from the cache is
counted by `count_cached_course_view(note)` (the page's note is its course id).
"""
from __future__ import annotations

from datetime import timedelta

from flask import after_this_request, request
from flask_login import current_user

from app.analytics import traffic
from app.blueprints.caching import note_page
from app.blueprints.htmx import wants_fragment
from app.catalog.models import Course
from app.dbtypes import utcnow

NOTE_PREFIX = "course:"


def _visit() -> traffic.Visit:
    return traffic.visit_source(referrer=request.referrer, own_host=request.host,
                                ref=request.args.get("ref"), utm_source=request.args.get("utm_source"),
                                remembered=request.cookies.get(traffic.SOURCE_COOKIE))


def _count(course_id: int) -> None:
    visit = _visit()
    traffic.count_page_view(course_id, visit.source, utcnow().date())
    if visit.remember:
        remember_source(visit.remember)


def remember_source(source: str) -> None:
    """Set the visitor's source cookie on this response (the name only; 30 days, HttpOnly,
    SameSite=Lax). The response then goes to this visitor alone: `private`, so a shared cache
    in front never hands the cookie to anyone else (the page cache keeps only the body)."""
    @after_this_request
    def set_cookie(resp):
        resp.set_cookie(traffic.SOURCE_COOKIE, source, max_age=int(timedelta(days=traffic.SOURCE_COOKIE_DAYS)
                                                                    .total_seconds()),
                        httponly=True, samesite="Lax", secure=request.is_secure)
        resp.headers["Cache-Control"] = "private, no-cache"
        return resp


def count_course_view(course: Course) -> None:
    """The course page view's part: count it if it is a view, and note the course for the cache."""
    note_page(f"{NOTE_PREFIX}{course.id}")
    viewer_id = current_user.id if current_user.is_authenticated else None
    if traffic.counts_as_view(method=request.method, user_agent=request.user_agent.string,
                              fragment=wants_fragment(), viewer_id=viewer_id, course=course):
        _count(course.id)


def count_cached_course_view(note: str) -> None:
    """A visitor was served a course page from the cache: count it as the view would have."""
    course_id = note.removeprefix(NOTE_PREFIX)
    if not (note.startswith(NOTE_PREFIX) and course_id.isdigit()):
        return
    if traffic.counts_as_view(method=request.method, user_agent=request.user_agent.string,
                              fragment=wants_fragment(), viewer_id=None):
        _count(int(course_id))


def checkout_source() -> str | None:
    """The source to store on an order started now: the visitor's remembered source."""
    return traffic.clean_source(request.cookies.get(traffic.SOURCE_COOKIE))
