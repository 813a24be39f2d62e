"""Traffic (issue 17, part 1), through the screens: which course page views are counted (cached
page or not), the visitor's source cookie, a source carried to a paid order through the local
gateway's checkout, the API's checkout, and the funnel and sources sections of the studio page."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.analytics import periods, traffic
from app.analytics.models import CourseDay, SourceDay
from app.analytics.rollups import bump
from app.analytics.scope import Scope
from app.blueprints.caching import local_pages
from app.dbtypes import utcnow
from app.extensions import get_redis, redis_key
from app.jobs.analytics import flush_page_views
from tests.support.api import token_for
from tests.support.checkout import bought, order_of
from tests.support.commerce import idempotency, paid_course
from tests.support.pages import HX, words
from tests.support.traffic import (
    BROWSER,
    course_day_figures,
    source_rows,
    traffic_keys,
    waiting_views,
)

pytestmark = pytest.mark.usefixtures("no_traffic_counts_left")


GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def page_cache(app):
    app.config["PAGE_CACHE_SECONDS"] = 30
    yield
    app.config["PAGE_CACHE_SECONDS"] = 0
    redis = get_redis()
    for key in redis.scan_iter(redis_key("page", "*")):
        redis.delete(key)
    local_pages().clear()


@pytest.fixture
def visitor(app):
    """A visitor's browser (a test client with a visitor's User-Agent and its own cookies)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


@pytest.fixture
def course(creator):
    return paid_course(creator, title="Painting with Light")


def today():
    return utcnow().date()


def views(course) -> dict[str, int]:
    """The course's views waiting in Redis, by source."""
    return {key.split("|", 2)[2]: count for key, count in waiting_views().items()
            if key.split("|")[1] == str(course.id)}


# --- what is counted ---------------------------------------------------------------------------

def test_a_visitors_view_of_a_course_page_is_counted_once_as_direct(visitor, course):
    assert visitor.get(f"/courses/{course.slug}").status_code == 200
    assert views(course) == {"direct": 1}


def test_views_served_from_the_page_cache_are_counted_too(visitor, course, page_cache):
    first = visitor.get(f"/courses/{course.slug}", headers={"Referer": "https://blog.example/post"})
    second = visitor.get(f"/courses/{course.slug}?ref=newsletter")
    assert [first.headers["X-Cache"], second.headers["X-Cache"]] == ["miss", "hit"]
    assert views(course) == {"blog.example": 1, "newsletter": 1}
    local_pages().clear()  # another process: served from Redis
    third = visitor.get(f"/courses/{course.slug}", headers={"Referer": f"http://localhost/courses/{course.slug}"})
    assert third.headers["X-Cache"] == "hit"
    assert views(course) == {"blog.example": 1, "newsletter": 2}  # a view from our own page keeps the source


def test_robots_head_requests_and_htmx_fragments_are_not_counted(app, visitor, course, page_cache):
    for _ in range(2):  # uncached, then from the cache
        visitor.get(f"/courses/{course.slug}", headers={"User-Agent": GOOGLEBOT})
    visitor.head(f"/courses/{course.slug}")
    visitor.get(f"/courses/{course.slug}?reviews=1", headers={"HX-Request": "true"})
    visitor.get(f"/courses/{course.slug}?reviews=1", headers={"HX-Request": "true"})
    assert views(course) == {}
    app.config["PAGE_CACHE_SECONDS"] = 0
    visitor.head(f"/courses/{course.slug}")
    visitor.get(f"/courses/{course.slug}", headers={"User-Agent": "curl/8.5"})
    assert views(course) == {}


def test_the_creators_own_views_are_not_counted_but_a_signed_in_learners_are(visitor, login, course, creator,
                                                                             learner):
    login(creator, on=visitor)
    visitor.get(f"/courses/{course.slug}")
    assert views(course) == {}
    login(learner, on=visitor)
    visitor.get(f"/courses/{course.slug}")
    assert views(course) == {"direct": 1}


def test_a_course_that_is_not_published_is_not_counted(visitor, login, make_course, creator):
    draft = make_course(creator, status="draft")
    login(creator, on=visitor)
    visitor.get(f"/courses/{draft.slug}")
    assert visitor.get(f"/courses/{draft.slug}").status_code == 200
    assert views(draft) == {}


# --- the source cookie -------------------------------------------------------------------------

def cookie_header(resp) -> str:
    [header] = [value for value in resp.headers.getlist("Set-Cookie") if value.startswith(f"{traffic.SOURCE_COOKIE}=")]
    return header


def test_an_external_source_is_remembered_in_a_small_cookie(visitor, course):
    resp = visitor.get(f"/courses/{course.slug}", headers={"Referer": "https://www.Example.com/a"})
    header = cookie_header(resp)
    assert header.startswith("lyc_src=example.com;")
    assert "HttpOnly" in header and "SameSite=Lax" in header and f"Max-Age={30 * 86400}" in header
    assert "private" in resp.headers["Cache-Control"]
    again = visitor.get(f"/courses/{course.slug}")  # nothing new: no cookie sent again
    assert not again.headers.getlist("Set-Cookie")
    assert views(course) == {"example.com": 2}


def test_the_cached_page_keeps_no_visitors_cookie(app, visitor, course, page_cache):
    first = visitor.get(f"/courses/{course.slug}?ref=spring")
    assert first.headers["X-Cache"] == "miss" and cookie_header(first)
    assert "private" in first.headers["Cache-Control"]  # no shared cache keeps it
    someone_else = app.test_client()
    someone_else.environ_base["HTTP_USER_AGENT"] = BROWSER
    second = someone_else.get(f"/courses/{course.slug}")
    assert second.headers["X-Cache"] == "hit" and not second.headers.getlist("Set-Cookie")
    assert second.headers["Cache-Control"] == "public, max-age=30"
    assert b"spring" not in second.data
    from_the_cache = visitor.get(f"/courses/{course.slug}?ref=autumn")  # a cookie is set on a hit too
    assert from_the_cache.headers["X-Cache"] == "hit" and cookie_header(from_the_cache).startswith("lyc_src=autumn;")
    assert views(course) == {"spring": 1, "direct": 1, "autumn": 1}


# --- a source carried through to a paid order --------------------------------------------------

def test_a_buyer_who_came_from_a_newsletter_is_counted_under_it_to_the_sale(visitor, login, course, learner):
    visitor.get(f"/courses/{course.slug}?ref=newsletter")
    visitor.get("/courses/")  # looks around the site
    login(learner, on=visitor)
    visitor.get(f"/courses/{course.slug}", headers={"Referer": f"http://localhost/courses/{course.slug}"})
    order = bought(visitor, learner, course)
    assert order.traffic_source == "newsletter"
    flush_page_views()
    assert source_rows(course.id) == {"newsletter": (2, 1, 1)}
    assert course_day_figures(course.id) == (2, 1)


def test_a_checkout_without_a_remembered_source_is_direct(visitor, login, course, learner):
    login(learner, on=visitor)
    bought(visitor, learner, course)
    assert order_of(learner, course).traffic_source is None
    assert source_rows(course.id) == {"direct": (0, 1, 1)}


def test_a_forged_source_cookie_is_not_stored(visitor, login, course, learner):
    login(learner, on=visitor)
    visitor.set_cookie(traffic.SOURCE_COOKIE, "<script>alert(1)</script>")
    bought(visitor, learner, course)
    assert order_of(learner, course).traffic_source is None


def test_the_apis_checkout_takes_the_source_the_client_says(client, learner, course):
    headers = {"Authorization": f"Bearer {token_for(learner, 'learn')}", **idempotency()}
    resp = client.post("/api/v1/checkouts", json={"course_id": course.id, "source": "partner.example"},
                       headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert order_of(learner, course).traffic_source == "partner.example"
    assert source_rows(course.id) == {"partner.example": (0, 1, 0)}


def test_the_api_refuses_a_source_that_is_not_a_plain_name(client, learner, course):
    headers = {"Authorization": f"Bearer {token_for(learner, 'learn')}", **idempotency()}
    resp = client.post("/api/v1/checkouts", json={"course_id": course.id, "source": "Bad Source!"}, headers=headers)
    assert resp.status_code == 422
    assert order_of(learner, course) is None


# --- nothing personal ----------------------------------------------------------------------------

def test_counting_keeps_nothing_about_the_visitor(visitor, login, course, learner):
    login(learner, on=visitor)
    visitor.get(f"/courses/{course.slug}", headers={"Referer": "https://example.com/?u=lena@example.test",
                                                    "X-Forwarded-For": "203.0.113.9"})
    redis = get_redis()
    stored = {key.decode(): redis.hgetall(key) for key in traffic_keys()}
    assert stored == {redis_key("traffic", "views", today().isoformat()): {f"{course.id}|example.com".encode(): b"1"}}
    flush_page_views()
    assert source_rows(course.id) == {"example.com": (1, 0, 0)}


# --- the sections --------------------------------------------------------------------------------

def figures(course, day, **counts):
    bump(CourseDay, {"course_id": course.id, "day": day, "creator_id": course.creator_id,
                     "currency": course.currency}, **counts)


def source(course, day, name, **counts):
    bump(SourceDay, {"course_id": course.id, "day": day, "source": name, "creator_id": course.creator_id}, **counts)


def test_the_funnel_has_each_steps_share_of_the_one_before_and_the_previous_period(course, creator):
    period = periods.preset("30d", today())
    figures(course, today(), page_views=200, checkouts=20, sales=5)
    figures(course, today() - timedelta(days=40), page_views=100, checkouts=0)
    data = traffic.funnel(Scope(creator_id=creator.id), period, "week")
    assert [(s.value, s.previous, s.rate, s.previous_rate) for s in data["steps"]] == [
        (200, 100, None, None), (20, 0, 10.0, 0.0), (5, 0, 25.0, None)]
    assert (data["overall"], data["previous_overall"]) == (2.5, 0.0)
    assert sum(data["series"]["page_views"]) == 200 and len(data["labels"]) == len(data["series"]["sales"])


def test_sources_are_ranked_by_sales_then_views_with_the_rest_as_other(course, creator, make_course):
    other_course = paid_course(creator)
    source(course, today(), "direct", page_views=500, checkouts=5, sales=1)
    source(course, today(), "example.com", page_views=40, checkouts=4, sales=2)
    source(other_course, today(), "example.com", page_views=10, sales=1)
    for n in range(25):
        source(course, today(), f"site{n:02}.example", page_views=n + 1)
    data = traffic.sources(Scope(creator_id=creator.id), periods.preset("7d", today()))
    rows = data["table"].rows
    assert rows[0] == ["example.com", 50, 4, 3, 6.0]
    assert rows[1] == ["Direct (no referrer)", 500, 5, 1, 0.2]
    assert rows[2][0] == "site24.example" and len(rows) == traffic.TOP_SOURCES + 1
    assert rows[-1] == ["Other sources (7)", 1 + 2 + 3 + 4 + 5 + 6 + 7, 0, 0, 0.0]
    assert (data["top_buyer_source"], data["top_buyer_sales"], data["total_sales"]) == ("example.com", 3, 4)
    course_only = traffic.sources(Scope(creator_id=creator.id, course_id=other_course.id), periods.preset("7d", today()))
    assert course_only["table"].rows == [["example.com", 10, 0, 1, 10.0]]


def test_the_studio_page_shows_where_the_buyers_come_from(client, login, course, creator):
    figures(course, today(), page_views=80, checkouts=8, sales=2)
    source(course, today(), "newsletter", page_views=30, checkouts=6, sales=2)
    source(course, today(), "direct", page_views=50, checkouts=2)
    login(creator)
    for url in ("/studio/analytics", f"/studio/courses/{course.id}/analytics"):
        page = client.get(url)
        assert page.status_code == 200
        body = words(page)
        assert "Where your buyers come from" in body
        assert "Most of your sales in this period came from newsletter : 2 of 2." in body
        assert "Direct (no referrer)" in body and "Sales per page view" in body
        assert "Page views that led to a checkout 10% —" in body  # 8 of 80; nothing the period before
        assert "Checkouts that were paid 25% —" in body


def test_the_studio_figures_fragment_has_both_sections(client, login, course, creator):
    login(creator)
    page = client.get("/studio/analytics?range=7d", headers=HX)
    assert page.status_code == 200 and b"<html" not in page.data
    body = words(page)
    assert "From page view to sale" in body and "No sales in this period yet" in body


def test_another_creators_course_figures_are_not_found(client, login, course, stranger):
    login(stranger)
    assert client.get(f"/studio/courses/{course.id}/analytics").status_code == 404
