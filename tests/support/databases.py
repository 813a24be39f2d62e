"""Throwaway databases for a test session or a deployment run."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.config import normalise_database_url


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
