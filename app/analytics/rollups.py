"""Writing the daily rollups: one atomic add-or-insert per row, and the day of a moment.

`bump` is the only way figures change between rebuilds: `INSERT … ON CONFLICT DO UPDATE SET
x = x + excluded.x` on PostgreSQL and SQLite alike, so two processes counting the same row at
once both count and neither waits on a read.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.dbtypes import insert_on_conflict
from app.extensions import db

MAX_HOURS = 24 * 366  # durations longer than a year are counted as a year


def day_of(moment: datetime) -> date:
    """The UTC day a moment belongs to."""
    return moment.astimezone(UTC).date()


def hours_between(start: datetime, end: datetime) -> int:
    """Whole hours from `start` to `end`, within 0..MAX_HOURS (the bucket of DurationDay)."""
    return max(0, min(MAX_HOURS, int((end - start).total_seconds() // 3600)))


def bump(model, key: dict, /, **deltas: int) -> None:
    """Add `deltas` to the row of `model` named by `key` (its primary key, plus any column that
    is set only when the row is first written, e.g. `creator_id`), creating the row if needed.

    Runs in the caller's transaction: the figures commit or roll back with it."""
    deltas = {name: int(value) for name, value in deltas.items() if value}
    if not deltas:
        return
    primary = [column.name for column in model.__table__.primary_key.columns]
    missing = [name for name in primary if name not in key]
    if missing:
        raise ValueError(f"bump({model.__name__}) needs its whole primary key; missing {missing}")
    statement = insert_on_conflict(model).values(**key, **deltas)
    table = model.__table__
    db.session.execute(statement.on_conflict_do_update(
        index_elements=primary,
        set_={name: table.c[name] + statement.excluded[name] for name in deltas}))


def reset(model, columns: list[str], start: date, end: date, *where) -> None:
    """Set `columns` to 0 on the rows of `model` for the days start..end (and the extra `where`
    conditions, e.g. one DurationDay metric): the first step of a rebuild, which then bumps the
    recomputed figures back in (other columns and rows stay)."""
    if columns:
        db.session.execute(sa.update(model).where(model.day >= start, model.day <= end, *where)
                           .values({name: 0 for name in columns}))


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The moments from the start of `start` (included) to the end of `end` (excluded), UTC:
    what a rebuild selects source rows by."""
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)
