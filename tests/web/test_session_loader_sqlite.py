"""The session loader on the embedded default (SQLite) beside another writer: its own app and
database, as a live server has, so requests run on connections of their own."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import User, UserSession
from app.dbtypes import utcnow
from app.extensions import db
from tests import factories
from tests.support.apps import ON_POSTGRESQL, build_app, sign_in_client

# No per-test rollback on one shared connection: each request has its own.
pytestmark = pytest.mark.committed


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's own locking (the embedded default)")
def test_a_page_is_served_when_another_request_writes_while_its_session_is_touched():
    """SQLite does not let a transaction that has read start writing once another connection
    has written since ("database is locked"). The loader reads the session, then touches
    last_seen_at: when another request commits in between, it touches it again in a
    transaction that takes the write lock first, and the page is served."""
    app, teardown = build_app()
    engine_writes = []

    def another_request_writes(conn, cursor, statement, *args):
        if "FROM user_sessions" in statement and not engine_writes:
            engine_writes.append(statement)
            with db.engine.connect() as other:
                other.execute(sa.update(User).values(headline="written meanwhile"))
                other.commit()

    try:
        with app.app_context():
            user = factories.make_user()
            client = app.test_client()
            sign_in_client(client, user)
            long_ago = utcnow() - timedelta(minutes=5)
            db.session.execute(sa.update(UserSession).values(last_seen_at=long_ago))
            db.session.commit()
            sa.event.listen(db.engine, "after_cursor_execute", another_request_writes)
            try:
                assert client.get("/dashboard/").status_code == 200
            finally:
                sa.event.remove(db.engine, "after_cursor_execute", another_request_writes)
            assert engine_writes  # the write came between the loader's read and its touch
            db.session.expire_all()
            assert db.session.scalar(sa.select(UserSession.last_seen_at)) > long_ago
    finally:
        teardown()
