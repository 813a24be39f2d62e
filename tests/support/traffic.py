"""Helpers for the traffic tests (issue 17, part 1): the page views waiting in Redis, emptying
them, and the rollup rows they end up in."""
from __future__ import annotations

import sqlalchemy as sa

from app.analytics.models import CourseDay, SourceDay
from app.extensions import db, get_redis, redis_key

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def traffic_keys() -> list[bytes]:
    return sorted(get_redis().scan_iter(redis_key("traffic", "*")))


def clear_traffic_counts() -> None:
    """Forget every count, flushing key and lock of the traffic part (Redis outlives a test's rollback)."""
    redis = get_redis()
    for key in traffic_keys():
        redis.delete(key)


def waiting_views() -> dict[str, int]:
    """The views counted and not yet flushed: {"<day>|<course id>|<source>": count}."""
    redis = get_redis()
    found: dict[str, int] = {}
    for key in redis.scan_iter(redis_key("traffic", "views", "*")):
        day = key.decode().rsplit(":", 1)[1]
        for field, value in redis.hgetall(key).items():
            found[f"{day}|{field.decode()}"] = int(value)
    return found


def source_rows(course_id: int) -> dict[str, tuple[int, int, int]]:
    """{source: (page views, checkouts, sales)} of the course, summed over its days."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(SourceDay.source, sa.func.sum(SourceDay.page_views), sa.func.sum(SourceDay.checkouts),
                  sa.func.sum(SourceDay.sales)).where(SourceDay.course_id == course_id).group_by(SourceDay.source))
    return {source: (int(views), int(checkouts), int(sales)) for source, views, checkouts, sales in rows}


def course_day_figures(course_id: int) -> tuple[int, int]:
    """(page views, checkouts) of the course, summed over its days."""
    db.session.expire_all()
    views, checkouts = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(CourseDay.page_views), 0),
                  sa.func.coalesce(sa.func.sum(CourseDay.checkouts), 0))
        .where(CourseDay.course_id == course_id)).one()
    return int(views), int(checkouts)
