"""Page views counted while several flush jobs run at once, each on its own connection, on real
PostgreSQL and Redis with committed data: every view ends up in the rollups exactly once."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.analytics import traffic
from app.analytics.models import CourseDay, SourceDay
from app.dbtypes import utcnow
from app.extensions import db as _db
from app.jobs.analytics import flush_page_views
from tests import factories

pytestmark = [pytest.mark.real_services, pytest.mark.committed]

VIEWS = 600


def test_views_counted_while_flushes_race_are_each_booked_once(committed_app):
    app = committed_app
    with app.app_context():
        course = factories.make_course(status="published")
        course_id = course.id
        _db.session.remove()
    today = utcnow().date()
    counting_done = threading.Event()
    errors: list[BaseException] = []

    def count():
        with app.app_context():
            for n in range(VIEWS):
                traffic.count_page_view(course_id, ("direct", "example.com")[n % 2], today)
        counting_done.set()

    def flush_until_counted():
        try:
            while not counting_done.is_set():
                with app.app_context():
                    flush_page_views()
                    _db.session.remove()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=count)] + [threading.Thread(target=flush_until_counted) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)
    with app.app_context():
        flush_page_views()  # what the last racing flush left
        views = _db.session.scalar(sa.select(CourseDay.page_views).where(CourseDay.course_id == course_id))
        by_source = dict(_db.session.execute(sa.select(SourceDay.source, SourceDay.page_views)
                                             .where(SourceDay.course_id == course_id)).all())
        _db.session.remove()
    assert views == VIEWS
    assert by_source == {"direct": VIEWS // 2, "example.com": VIEWS // 2}
