"""Traffic (issue 17, part 1), the services: where a view came from, counting in Redis and the
flush into the rollups (two flushes at once, a flush that dies), checkouts and sales per source
from the events, and the rebuild."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from app.analytics import traffic
from app.analytics.models import CourseDay, SourceDay
from app.analytics.rollups import bump
from app.commerce.orders import start_checkout
from app.dbtypes import utcnow
from app.extensions import db, get_redis, redis_key
from app.jobs.analytics import flush_page_views
from app.jobs.schedule import PERIODIC
from tests.support.commerce import checkout_completed, deliver, paid_course
from tests.support.traffic import course_day_figures, source_rows, waiting_views

pytestmark = pytest.mark.usefixtures("no_traffic_counts_left")


HOST = "lyceum.example"


@pytest.fixture
def course(creator):
    return paid_course(creator, currency="EUR")


def today():
    return utcnow().date()


# --- where a view came from ------------------------------------------------------------------

def test_an_external_referrer_counts_as_its_domain_lowercased_without_www():
    visit = traffic.visit_source(referrer="https://WWW.Example.COM/some/post?id=3", own_host=HOST)
    assert visit == traffic.Visit("example.com", "example.com")


def test_a_campaign_name_wins_over_the_referrer_and_is_cleaned():
    assert traffic.visit_source(referrer="https://news.ycombinator.com/", own_host=HOST,
                                ref="Spring Sale!<b>").source == "springsaleb"
    assert traffic.visit_source(referrer=None, own_host=HOST, utm_source="Newsletter_2026").source == "newsletter_2026"
    assert traffic.visit_source(referrer=None, own_host=HOST, ref="x" * 300).source == "x" * traffic.CAMPAIGN_MAX


def test_a_view_from_our_own_pages_keeps_the_source_the_visitor_came_with():
    visit = traffic.visit_source(referrer=f"https://{HOST}/courses/", own_host=HOST, remembered="example.com")
    assert visit == traffic.Visit("example.com", None)  # nothing new to remember
    assert traffic.visit_source(referrer=f"https://www.{HOST}:443/x", own_host=f"{HOST}:443",
                                remembered=None).source == traffic.DIRECT


def test_no_referrer_is_direct_unless_the_visitor_came_from_somewhere_before():
    assert traffic.visit_source(referrer=None, own_host=HOST) == traffic.Visit("direct", None)
    assert traffic.visit_source(referrer=None, own_host=HOST, remembered="blog.example").source == "blog.example"


def test_a_new_external_source_replaces_the_remembered_one():
    visit = traffic.visit_source(referrer="https://duckduckgo.com/", own_host=HOST, remembered="example.com")
    assert visit == traffic.Visit("duckduckgo.com", "duckduckgo.com")


@pytest.mark.parametrize("referrer", ["javascript:alert(1)", "ftp://files.example/", "not a url", "https://",
                                      "http://[::1", "https://bad_host!.example/"])
def test_a_referrer_that_is_not_a_web_page_is_ignored(referrer):
    assert traffic.visit_source(referrer=referrer, own_host=HOST).source == traffic.DIRECT


@pytest.mark.parametrize("cookie", ["<script>", "a" * 101, "", "UPPER|pipe"])
def test_a_remembered_source_we_did_not_write_is_ignored(cookie):
    assert traffic.visit_source(referrer=None, own_host=HOST, remembered=cookie).source == traffic.DIRECT


@pytest.mark.parametrize("agent", ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                                   "curl/8.5.0", "python-requests/2.32", "facebookexternalhit/1.1", "", None])
def test_robots_scripts_and_no_user_agent_are_not_people(agent):
    assert traffic.is_bot(agent)


def test_a_browser_is_a_person():
    assert not traffic.is_bot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1")


# --- the flush ---------------------------------------------------------------------------------

def test_a_flush_moves_the_counts_into_the_course_and_source_rows(course, creator):
    for source in ("example.com", "example.com", "direct"):
        traffic.count_page_view(course.id, source, today())
    traffic.count_page_view(course.id, "direct", today() - timedelta(days=1))
    flush_page_views()
    assert source_rows(course.id) == {"example.com": (2, 0, 0), "direct": (2, 0, 0)}
    row = db.session.scalar(sa.select(CourseDay).where(CourseDay.course_id == course.id, CourseDay.day == today()))
    assert (row.page_views, row.creator_id, row.currency) == (3, creator.id, "EUR")
    assert waiting_views() == {}
    flush_page_views()  # nothing left: nothing more is added
    assert course_day_figures(course.id) == (4, 0)


def test_views_counted_during_a_flush_wait_for_the_next_one(course):
    traffic.count_page_view(course.id, "direct", today())
    flush = traffic.claim_page_views(today())
    traffic.count_page_view(course.id, "direct", today())  # arrives while the first flush books
    traffic.book_page_views(flush)
    db.session.commit()
    traffic.release_page_views(flush, booked=True)
    assert course_day_figures(course.id)[0] == 1
    flush_page_views()
    assert course_day_figures(course.id)[0] == 2


def test_two_flushes_at_once_neither_lose_nor_double_a_count(course):
    for _ in range(3):
        traffic.count_page_view(course.id, "example.com", today())
    first = traffic.claim_page_views(today())
    traffic.count_page_view(course.id, "example.com", today())
    assert traffic.claim_page_views(today()) is None  # the second finds the lock taken: does nothing
    flush_page_views()  # the job itself, meanwhile, does nothing either
    assert course_day_figures(course.id)[0] == 0
    traffic.book_page_views(first)
    db.session.commit()
    traffic.release_page_views(first, booked=True)
    flush_page_views()  # the next run books what came in meanwhile
    assert source_rows(course.id) == {"example.com": (4, 0, 0)}
    assert waiting_views() == {}


def test_a_flush_that_fails_before_its_commit_leaves_its_counts_for_the_next(course):
    traffic.count_page_view(course.id, "direct", today())
    with pytest.raises(RuntimeError), traffic.page_view_flush(today()) as flush:
        traffic.book_page_views(flush)
        raise RuntimeError("the database went away")
    db.session.rollback()
    assert course_day_figures(course.id)[0] == 0
    traffic.count_page_view(course.id, "direct", today())
    flush_page_views()  # books the view set aside first (the new one waits a minute more)
    assert course_day_figures(course.id)[0] == 1
    flush_page_views()
    flush_page_views()
    assert course_day_figures(course.id)[0] == 2  # each once


def test_a_flush_whose_process_died_is_finished_by_the_next_after_its_lock_expires(course):
    traffic.count_page_view(course.id, "direct", today())
    traffic.claim_page_views(today())  # ... and the process dies before booking
    get_redis().delete(redis_key("traffic", "flush-lock"))  # the lock's time runs out
    flush_page_views()
    assert course_day_figures(course.id)[0] == 1


def test_views_of_a_course_deleted_since_are_dropped(course, creator):
    traffic.count_page_view(course.id, "direct", today())
    traffic.count_page_view(2**31 - 5, "direct", today())
    flush_page_views()
    assert course_day_figures(course.id)[0] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseDay)
                             .where(CourseDay.course_id == 2**31 - 5)) == 0


def test_the_flush_runs_every_minute():
    assert (flush_page_views, "low", 60) in PERIODIC


# --- checkouts and sales per source ------------------------------------------------------------

def start(buyer, course, source=None, now=None):
    with current_app.test_request_context():
        order, _url = start_checkout(buyer, course, traffic_source=source, now=now)
    db.session.commit()
    return order


def test_a_checkout_counts_for_its_course_and_source_and_a_sale_for_the_source(course, learner, stranger):
    order = start(learner, course, "example.com")
    start(stranger, course)  # no source: direct
    assert source_rows(course.id) == {"example.com": (0, 1, 0), "direct": (0, 1, 0)}
    assert course_day_figures(course.id) == (0, 2)
    deliver(checkout_completed(order))
    assert source_rows(course.id) == {"example.com": (0, 1, 1), "direct": (0, 1, 0)}


def test_a_reused_pending_order_keeps_its_source_and_counts_once(course, learner):
    first = start(learner, course, "example.com")
    again = start(learner, course, "other.example")
    assert again.id == first.id and again.traffic_source == "example.com"
    assert source_rows(course.id) == {"example.com": (0, 1, 0)}


def test_checkouts_count_on_the_day_the_order_was_made(course, learner):
    then = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    start(learner, course, "example.com", now=then)
    row = db.session.scalar(sa.select(SourceDay).where(SourceDay.course_id == course.id))
    assert (row.day, row.checkouts) == (then.date(), 1)


def test_a_rebuild_gives_the_figures_the_events_gave_and_keeps_the_page_views(course, learner, stranger):
    paid = start(learner, course, "example.com")
    deliver(checkout_completed(paid))
    start(stranger, course)
    traffic.count_page_view(course.id, "example.com", today())
    flush_page_views()
    before = source_rows(course.id), course_day_figures(course.id)
    bump(SourceDay, {"course_id": course.id, "day": today(), "source": "example.com",
                     "creator_id": course.creator_id}, checkouts=5, sales=7)  # wrong, as after a lost event
    traffic.rebuild(today() - timedelta(days=1), today())
    db.session.commit()
    assert (source_rows(course.id), course_day_figures(course.id)) == before
    assert before == ({"example.com": (1, 1, 1), "direct": (0, 1, 0)}, (1, 2))


def test_a_rebuild_leaves_days_outside_its_range_alone(course, learner):
    start(learner, course, "example.com", now=datetime(2026, 1, 10, 12, tzinfo=UTC))
    traffic.rebuild(datetime(2026, 1, 11).date(), datetime(2026, 1, 12).date())
    db.session.commit()
    assert source_rows(course.id) == {"example.com": (0, 1, 0)}


# --- nothing personal ----------------------------------------------------------------------------

def test_the_rollups_hold_only_course_day_source_and_counts():
    assert {c.name for c in SourceDay.__table__.columns} == {
        "course_id", "day", "source", "creator_id", "page_views", "checkouts", "sales"}
    traffic_columns = {"course_id", "day", "creator_id", "currency", "page_views", "checkouts"}
    assert traffic_columns <= {c.name for c in CourseDay.__table__.columns}


def test_the_redis_counts_hold_only_the_course_the_source_and_the_day(course):
    traffic.count_page_view(course.id, "example.com", today())
    assert waiting_views() == {f"{today().isoformat()}|{course.id}|example.com": 1}
