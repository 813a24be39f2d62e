"""Keyset cursors for the lists that run newest first by a time, then id (enrollments,
certificates, reviews, questions): the cursor carries the last row's time and id."""
from __future__ import annotations

from datetime import datetime

from app.blueprints.api.cursors import decode_cursor, encode_cursor
from app.blueprints.api.openapi import CursorQuery


def position_after(query: CursorQuery, kind: str) -> tuple[datetime, int] | None:
    position = decode_cursor(query.cursor, kind=kind)
    return (datetime.fromisoformat(position["at"]), position["id"]) if position else None


def cursor_after(rows: list, limit: int, kind: str, at) -> str | None:
    """`rows` was fetched with `limit + 1`: a next page exists when it is longer than `limit`."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor({"kind": kind, "at": at(last).isoformat(), "id": last.id})
