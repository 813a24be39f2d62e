"""The analytics pages' figures are cached and keyed by the figures' versions
(app/blueprints/analytics_cache.py): a page re-read without a change costs no recomputation,
and any change — the creator's own, or a rebuild — shows at once."""
from __future__ import annotations

import pytest

from app.analytics import live, rollups
from app.analytics.models import CourseDay
from app.dbtypes import utcnow
from app.extensions import get_redis, redis_key
from tests import factories
from tests.support.pages import words


@pytest.fixture
def cache_on(app):
    app.config["ANALYTICS_CACHE_SECONDS"] = 60
    redis = get_redis()
    for key in redis.scan_iter(redis_key("analytics", "*")):
        redis.delete(key)
    yield
    app.config["ANALYTICS_CACHE_SECONDS"] = 0
    for key in redis.scan_iter(redis_key("analytics", "*")):
        redis.delete(key)


def enrolments(client, htmx=None) -> str:
    page = words((htmx or client).get("/studio/analytics?range=7d"))
    return page.split("New enrollments ", 1)[1].split(" ", 1)[0]


def add_enrolment(course) -> None:
    rollups.bump(CourseDay, {"course_id": course.id, "day": utcnow().date(), "creator_id": course.creator_id,
                             "currency": course.currency}, enrollments=1)


def test_a_page_re_read_without_a_change_comes_from_the_cache(cache_on, client, htmx, login, creator):
    course = factories.make_course(creator, status="published")
    login(creator)
    add_enrolment(course)
    assert enrolments(client) == "1"
    add_enrolment(course)  # written without telling anyone (as no service does): the cache answers
    assert enrolments(client) == "1" and enrolments(client, htmx) == "1"


def test_a_change_of_the_creators_figures_shows_at_once(cache_on, client, htmx, login, creator, make_user):
    course = factories.make_course(creator, status="published")
    login(creator)
    assert enrolments(client) == "0"
    add_enrolment(course)
    live.publish_changes([make_user().id])  # another creator's change leaves mine cached
    assert enrolments(client) == "0"
    live.publish_changes([creator.id])  # what every rollup subscriber's commit does
    assert enrolments(htmx) == "1" and enrolments(client) == "1"


def test_a_rebuild_makes_every_cached_figure_stale(cache_on, client, login, creator):
    course = factories.make_course(creator, status="published")
    login(creator)
    assert enrolments(client) == "0"
    add_enrolment(course)
    live.everything_changed()
    assert enrolments(client) == "1"


def test_the_admin_page_is_cached_apart_for_admins_who_see_different_links(cache_on, client, login, make_user):
    finance = make_user(permissions=("manage_finance",))
    both = make_user(permissions=("manage_finance", "manage_users"))
    login(finance)
    assert client.get("/admin/analytics").status_code == 200
    login(both)
    assert client.get("/admin/analytics").status_code == 200
    keys = list(get_redis().scan_iter(redis_key("analytics", "figures", "*")))
    assert len(keys) == 2
