"""Keyset cursors for the lists that run newest first by a time and then more keys (an id):
the cursor carries the last row's position, so a page never shifts when rows are added."""
from __future__ import annotations

from datetime import datetime

from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.openapi import CursorQuery


def keyset_position(cursor: str | None, kind: str) -> tuple | None:
    """The keyset position a cursor of list `kind` names: its time and the rest."""
    position = decode_cursor(cursor, kind=kind)
    if position is None:
        return None
    at, *rest = position["after"]
    return (datetime.fromisoformat(at) if at else None, *rest)


def keyset_page(rows: list, limit: int, kind: str, key) -> tuple[list, str | None]:
    """A page of `rows` fetched with `limit + 1`, and the cursor after its last row when there
    is more (`key(row)`: the row's time and the rest of its position)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    at, *rest = key(rows[-1])
    return rows, encode_cursor({"kind": kind, "after": [at.isoformat() if at else None, *rest]})


def position_after(query: CursorQuery, kind: str) -> tuple[datetime, int] | None:
    """The (time, id) after which a time-then-id list's page starts."""
    return keyset_position(query.cursor, kind)


def cursor_after(rows: list, limit: int, kind: str, at) -> str | None:
    """The cursor after a time-then-id page (`rows` fetched with `limit + 1`); None at the end."""
    return keyset_page(rows, limit, kind, lambda row: (at(row), row.id))[1]
