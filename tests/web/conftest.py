"""Helpers for the HTTP-level tests: more personas, a second browser, tiny uploads."""
from __future__ import annotations

import pytest


@pytest.fixture
def moderator(make_user):
    """An admin who may moderate but not manage users."""
    return make_user(email="moderator@example.test", display_name="Moe Moderator",
                     permissions=("moderate",))


@pytest.fixture
def other_client(app):
    """A second browser, with its own cookies."""
    return app.test_client()
