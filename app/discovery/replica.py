"""Where the public catalog reads from (ARCHITECTURE §12): a read replica of PostgreSQL when
`DATABASE_REPLICA_URL` is set, the primary otherwise.

Only `search.search_courses` (the course list, search, creator pages, trending picks) reads
through the replica, inside `replica_reads()`; its helpers take their session from
`catalog_session()`. A replica lags by up to a few seconds: a visitor may see a listing that
old, while the pages where people see their own changes (the studio, the course page, the
dashboard) read the primary. No write ever goes there: on a real replica it would fail."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from app.config import normalise_database_url
from app.extensions import db

_reading: ContextVar[Session | None] = ContextVar("catalog_replica_session", default=None)
_made_lock = threading.Lock()


def catalog_session() -> Session:
    """The session catalog queries read through: the replica's inside `replica_reads()`."""
    return _reading.get() or db.session


@contextmanager
def replica_reads() -> Iterator[None]:
    """Catalog reads in this block go to the replica, on a session of their own (closed at
    the end, so nothing loaded from it lingers beside the primary's rows)."""
    engine = replica_engine(current_app)
    if engine is None or _reading.get() is not None:
        yield
        return
    session = Session(engine)
    token = _reading.set(session)
    try:
        yield
    finally:
        _reading.reset(token)
        session.close()


def replica_engine(app: Flask) -> sa.Engine | None:
    """The app's engine for `DATABASE_REPLICA_URL` (made on first use), or None."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return None
    engine = app.extensions.get("catalog_replica")
    if engine is None:
        with _made_lock:
            engine = app.extensions.get("catalog_replica")
            if engine is None:
                engine = sa.create_engine(normalise_database_url(url),
                                          **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
                app.extensions["catalog_replica"] = engine
    return engine
