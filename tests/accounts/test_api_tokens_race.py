"""Two API calls with one token at the same moment (real PostgreSQL): the last-used touch
skips a row another transaction is writing instead of waiting for it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts import api_tokens
from app.accounts.models import ApiToken
from app.extensions import db as _db
from tests import factories

# Two real connections on an app of its own, whose data is really committed.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


def last_used(token_id):
    _db.session.commit()
    return _db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == token_id))


def test_a_call_while_another_holds_the_row_neither_waits_nor_touches(committed_app):
    with committed_app.app_context():
        user = factories.make_user(email="race-tokens@example.test")
        token, secret = api_tokens.create_token(user, name="race", scopes=["read"])
        _db.session.commit()
        with _db.engine.connect() as other:
            other.begin()  # another request's touch, not yet committed
            other.execute(sa.select(ApiToken.id).where(ApiToken.id == token.id).with_for_update())
            _db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail
            grant = api_tokens.authenticate_token(secret)
            assert grant is not None and grant.token_id == token.id
            assert last_used(token.id) is None
            other.rollback()
        assert api_tokens.authenticate_token(secret)
        assert last_used(token.id) is not None
        _db.session.remove()
