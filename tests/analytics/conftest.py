"""Fixtures the analytics tests share."""
from __future__ import annotations

import pytest

from app.dbtypes import utcnow
from tests.support.traffic import clear_traffic_counts


@pytest.fixture
def today():
    return utcnow().date()


@pytest.fixture
def page_request(app):
    """The sections link to pages (url_for), as they are built while a page is served."""
    with app.test_request_context():
        yield


@pytest.fixture
def no_traffic_counts_left(app):
    """No page view counted in Redis by another test, and none left for the next."""
    clear_traffic_counts()
    yield
    clear_traffic_counts()
