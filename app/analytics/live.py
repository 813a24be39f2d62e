"""Telling open dashboards that their figures changed (issue 17, part 4).

A rollup subscriber calls `figures_changed(creator_id)` after it bumps a row (None: only
platform figures changed). Once that transaction commits, `{"type": "analytics"}` goes to
the creator's notify channel and to the platform's analytics channel: the creator's pages,
and every finance admin's, hear it on the stream they already have
(app/blueprints/notifications/stream.py) and re-read their figures with their own
permissions. The message carries no figures, so hearing it tells nobody anything about money.

Each transaction publishes once per creator, however many rows it bumps (a rebuild, a sale
that moves several columns); nothing is published if it rolls back.

The same moment moves the figures' versions (a Redis counter per creator, one for the
platform, and one `everything` counter a rebuild moves): the analytics pages key their cached
figures by them (app/blueprints/analytics_cache.py), so a change is never hidden by the cache.
"""
from __future__ import annotations

from collections.abc import Iterable

from redis.exceptions import RedisError

from app.events import on_commit
from app.extensions import db, get_redis, redis_key
from app.messaging import bus, channels

MESSAGE = {"type": "analytics"}
PENDING_KEY = "lyceum.analytics.changed"  # {transaction: creator ids whose publish is scheduled}
EVERYTHING_KEY_PARTS = ("analytics", "version", "everything")


def figures_changed(creator_id: int | None) -> None:
    """The figures of `creator_id` (and the platform's) changed in the current transaction:
    tell their open dashboards once it commits (at once, if no transaction is open)."""
    session = db.session()
    if not session.in_transaction():
        publish_changes([creator_id])
        return
    owner = session.get_nested_transaction() or session.get_transaction()
    scheduled: dict = session.info.setdefault(PENDING_KEY, {})
    transaction = owner
    while transaction is not None:  # this transaction, or one around it, already will
        if creator_id in scheduled.get(transaction, ()):
            return
        transaction = transaction.parent
    batch = scheduled.get(owner)
    if batch is None:
        for ended in [t for t in scheduled if not t.is_active]:  # committed or rolled back
            del scheduled[ended]
        batch = scheduled[owner] = set()
        on_commit(lambda: publish_changes(batch))  # dropped if `owner` rolls back
    batch.add(creator_id)


def publish_changes(creator_ids: Iterable[int | None]) -> None:
    """Publish now: once on each creator's notify channel, once on the platform's (the
    versions move first, so a page that re-reads on hearing it finds the new figures)."""
    creators = sorted({c for c in creator_ids if c is not None})
    _move_versions([version_key(c) for c in creators] + [version_key(None)])
    for creator_id in creators:
        bus.publish_now(channels.user_notify(creator_id), dict(MESSAGE))
    bus.publish_now(channels.platform_analytics(), dict(MESSAGE))


def everything_changed() -> None:
    """After a rebuild (any creator's figures may have moved): every cached figure is stale."""
    _move_versions([redis_key(*EVERYTHING_KEY_PARTS)])


def version_key(creator_id: int | None) -> str:
    return redis_key("analytics", "version", "platform" if creator_id is None else f"creator:{creator_id}")


def versions(creator_id: int | None) -> str:
    """The versions a page of `creator_id`'s figures (None: the platform's) depends on, as one
    string for a cache key; empty if Redis cannot say (then nothing is cached)."""
    try:
        found = get_redis().mget([version_key(creator_id), redis_key(*EVERYTHING_KEY_PARTS)])
    except RedisError:
        return ""
    return "-".join((value.decode() if isinstance(value, bytes) else str(value or 0)) for value in found)


def _move_versions(keys: list[str]) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
        pipe.execute()
    except RedisError:  # the cache's entries still expire on their own (ANALYTICS_CACHE_SECONDS)
        pass
