"""Fixtures for the discovery tests: published courses built through the real services."""
from __future__ import annotations

import pytest

from tests.support import search


@pytest.fixture
def publish(reviewer, creator):
    """`publish(title=…, by=someone, **fields)`: a published course (by `creator` unless `by`)."""

    def build(by=None, **fields):
        return search.publish(by or creator, reviewer, **fields)

    return build


@pytest.fixture
def make_learners(make_user):
    """`make_learners(n)`: n signed-up learners (no password, to keep them cheap)."""

    def build(n: int, prefix: str = "learner"):
        return [make_user(password=None, display_name=f"{prefix.title()} {i}") for i in range(n)]

    return build
