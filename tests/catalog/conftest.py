"""Fixtures for the course service tests: complete courses built through the services
(tests/support/catalog.py)."""
from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from app.catalog import publishing
from tests.support.catalog import build_course


@pytest.fixture
def anonymous():
    """The user Flask-Login gives a visitor who is not signed in."""
    return AnonymousUserMixin()


@pytest.fixture
def ready_course(db, creator):
    """A complete draft of `creator`, committed."""
    course = build_course(creator)
    db.session.commit()
    return course


@pytest.fixture
def submitted_course(db, creator, ready_course):
    publishing.submit_for_review(creator, ready_course)
    db.session.commit()
    return ready_course


@pytest.fixture
def published_course(db, reviewer, submitted_course):
    publishing.approve_course(reviewer, submitted_course)
    db.session.commit()
    return submitted_course
