"""API clients: anonymous, and with a token of a given user and scopes."""
from __future__ import annotations

import pytest

from tests.support.api import ApiClient, token_for


@pytest.fixture
def anonymous(client):
    return ApiClient(client)


@pytest.fixture
def api(client):
    """`api(user, *scopes)`: a client speaking with a new token of `user`."""
    def make(user, *scopes):
        return ApiClient(client, token_for(user, *scopes))
    return make
