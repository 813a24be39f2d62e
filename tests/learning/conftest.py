"""Fixtures for the learning tests: complete courses built through the catalog services
(tests/support/learning.py) and an enrollment."""
from __future__ import annotations

import pytest

from app.learning import enrollment
from tests.support.learning import course_with_kinds


@pytest.fixture
def course(db, creator, admin):
    """A published free course: video (free preview), PDF, text, quiz."""
    return course_with_kinds(creator, admin)


@pytest.fixture
def paid_course(db, creator, admin):
    return course_with_kinds(creator, admin, price="19.99", title="Paid SQL")


@pytest.fixture
def draft_course(db, creator, admin):
    return course_with_kinds(creator, admin, publish=False, title="Draft SQL")


@pytest.fixture
def enrolled(db, learner, course):
    """The learner's free enrollment in `course`, committed."""
    row = enrollment.enroll(learner, course, source="free")
    db.session.commit()
    return row
