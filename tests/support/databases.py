"""Throwaway databases for a test session or a deployment run, and the two ways a test uses one.

- Rolled back (the default): the `db` fixture (tests/conftest.py) runs each test inside one outer
  transaction on the shared test app's database (`rolled_back`), undone at the end.
- Committed (`@pytest.mark.committed`, or `pytestmark = pytest.mark.committed` in a module): the
  test's data is committed for real, because another connection, thread or process must read it
  (a live server, a worker, a race between two connections). Such a test works on an app and
  database of its own (`build_app`, `committed_app`, a live server's); `db` is then None and the
  shared test app is neither set up nor reset for it. A directory whose every test is like that
  marks them in its conftest.py (`pytest_itemcollected`), as tests/e2e and tests/deployment do.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.engine import make_url

from app.config import normalise_database_url
from app.extensions import db as _db

COMMITTED = "committed"  # the marker's name (registered in pyproject.toml)


def create_test_database(base: str | None = None) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database URL, and how to drop it: a new database on the PostgreSQL
    server of `base` (default: DATABASE_URL), or a temporary SQLite file without one."""
    base = base if base is not None else os.environ.get("DATABASE_URL")
    if not base:
        tmp = tempfile.mkdtemp(prefix="lyceum-test-")
        return f"sqlite:///{tmp}/test.db", lambda: shutil.rmtree(tmp, ignore_errors=True)
    url = make_url(normalise_database_url(base))
    name = f"lyceum_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def is_committed(node) -> bool:
    """Whether the test `node` commits for real (marked `committed`: see the module docstring)."""
    return node.get_closest_marker(COMMITTED) is not None


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's Session picks the engine by bind key and ignores a session-level
    `bind`, so a session given the test's connection would still commit on a new one."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@contextmanager
def rolled_back(app) -> Iterator:
    """Run the body inside one outer transaction on `app`'s database, rolled back at the end.

    Every session (the test's, each request's, each after-commit subscriber's) joins the
    same connection through a SAVEPOINT, so `commit()` works as usual and is undone."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint",
             "class_": _ConnectionBoundSession})
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()
