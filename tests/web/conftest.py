"""Helpers for the HTTP-level tests: a second browser."""
from __future__ import annotations

import pytest


@pytest.fixture
def other_client(app):
    """A second browser, with its own cookies."""
    return app.test_client()
