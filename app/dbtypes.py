"""Column types and the clock shared by every domain's models."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator

from app.extensions import db

T = TypeVar("T")

MAX_ROW_ID = 2**31 - 1  # id columns are 32-bit INTEGERs on PostgreSQL


def utcnow() -> datetime:
    return datetime.now(UTC)


def row_id(value) -> int | None:
    """`value` (a form field, a provider's reference) as a row id, or None when it is not a
    whole number an id column can hold: a larger one makes the database raise (an overflow,
    a 500) where "not found" is the answer."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):  # also digits past Python's int-from-text limit
        return None
    return number if 0 < number <= MAX_ROW_ID else None


def writes_on_get(view):
    """Mark a view that writes on a GET (marks a conversation read, records a lesson opened):
    on SQLite its transaction takes the write lock when it begins, as a POST's does
    (app._tune_sqlite), instead of failing with "database is locked" when it comes to write."""
    view.writes_on_get = True
    return view


_writing: ContextVar[bool] = ContextVar("lyceum_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Declare, outside a request, that the transactions opened in this block will write (a
    script or a test writing beside a live server): on SQLite they then take the write lock
    when they begin, as a POST's do (app._tune_sqlite), and wait for another writer instead
    of failing with "database is locked" when they come to write after reading."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def declared_writing() -> bool:
    return _writing.get()


def is_sqlite_lock_upgrade(exc: Exception) -> bool:
    """SQLite's "database is locked": a transaction that had read could not start writing
    (another connection held the write lock, or wrote since this one's snapshot)."""
    return "database is locked" in str(getattr(exc, "orig", exc))


def bookkeeping(step: Callable[[], T], *, wrote: Callable[[T], bool] = lambda _: True) -> T:
    """Run `step`, a read that now and then writes a little (a session's or a token's
    last-used time), first thing in a request, and commit what it wrote at once, so the
    request's own work (a GET that never commits) does not carry it or hold its row lock.

    On SQLite a read transaction may not wait for the write lock: when another request holds
    it, the step runs again in a transaction that takes the lock first. Run later in a
    request, the write rides on the request's own commit instead (or waits for the next
    request: bookkeeping may be lost, never wrong)."""
    session = db.session()
    untouched = not session.in_transaction()
    try:
        result = step()
    except OperationalError as exc:
        if not (untouched and is_sqlite_lock_upgrade(exc)):
            raise
        session.rollback()
        with writing():
            result = step()
    if untouched and wrote(result) and session.in_transaction():
        keep = session.expire_on_commit
        session.expire_on_commit = False  # what the step loaded stays loaded: no reload
        try:
            session.commit()
        finally:
            session.expire_on_commit = keep
    return result


def after_row(time_column, id_column, after: tuple[datetime, int] | None, *, newest_first: bool = True):
    """Keyset paging's one condition: the rows that come after `after` (the time and id of
    the last row already shown) in a list ordered by (time, id), newest first or oldest
    first. The first page (`after` None) has no condition."""
    if after is None:
        return sa.true()
    at, row_id = after
    if newest_first:
        return sa.or_(time_column < at, sa.and_(time_column == at, id_column < row_id))
    return sa.or_(time_column > at, sa.and_(time_column == at, id_column > row_id))


def insert_on_conflict(model):
    """An INSERT that takes `.on_conflict_do_nothing(...)` on the database in use (both
    dialects spell it the same; the core `insert` has no such clause)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite returns naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Search-index objects that migrations manage by hand (FTS5 / tsvector tables, trigram
# indexes): not models, so schema comparison must not see them.
UNMANAGED_TABLE_PREFIXES = ("course_fts", "course_search")


def include_in_schema_comparison(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(UNMANAGED_TABLE_PREFIXES):
        return False
    return not (type_ == "index" and name and name.endswith("_trgm"))
