"""Fixtures for the course service tests: complete courses built through the services
(tests/support/catalog.py)."""
from __future__ import annotations

import pytest

from app.catalog import publishing
from tests.support.catalog import reviewable_draft


@pytest.fixture
def ready_course(db, creator):
    """A complete draft of `creator`, committed."""
    course = reviewable_draft(creator)
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
