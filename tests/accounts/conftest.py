"""Helpers for the accounts service tests."""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def request_ctx(app):
    """A request context, as the views give the services (mailed links are absolute URLs)."""
    with app.test_request_context():
        yield


@pytest.fixture
def link_in():
    """`link_in(message, path)`: the token of the first http link to `path<token>` in a mail."""

    def find(message, path: str) -> str:
        body = message.get_content()
        match = re.search(r"https?://[^\s/]+" + re.escape(path) + r"([A-Za-z0-9_.\-]+)", body)
        assert match, f"no link to {path} in:\n{body}"
        return match.group(1)

    return find
