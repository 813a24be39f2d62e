"""After-commit domain events (ARCHITECTURE §11).

A service calls `emit("learning.course.completed", enrollment_id=…)`; nothing happens
until the surrounding database transaction commits, and nothing at all if it rolls back.
Other domains `subscribe` at app start. Each subscriber runs in its own app context and
database session, committed on its own, so one failing subscriber neither undoes the
change that emitted the event nor stops the others. Subscribers that do slow or external
work enqueue an RQ job (`app.jobs.enqueue`).

`on_commit(fn)` is the same mechanism for a plain callback (enqueueing a job, publishing
to Redis) that must only happen once the data it refers to is visible to others.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

PENDING_KEY = "lyceum.on_commit"
ANY = "*"

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict = field(default_factory=dict)


def subscribe(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `fn(**payload)` for the event `name` (`"*"`: every event, as `fn(event)`)."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        if fn not in _subscribers[name]:
            _subscribers[name].append(fn)
        return fn

    return register


def unsubscribe(name: str, fn: Callable[..., None]) -> None:
    if fn in _subscribers.get(name, []):
        _subscribers[name].remove(fn)


def emit(name: str, **payload) -> None:
    """Deliver `name` to its subscribers once the current transaction commits."""
    on_commit(lambda: _deliver(Event(name, payload)))


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` after the current session commits (now, if no transaction is open)."""
    session = db.session()
    if not session.in_transaction():
        _run_isolated(callback)
        return
    session.info.setdefault(PENDING_KEY, []).append(callback)


def _deliver(evt: Event) -> None:
    for fn in list(_subscribers.get(evt.name, [])):
        _run_isolated(lambda fn=fn: fn(**evt.payload), label=f"{evt.name} -> {fn.__qualname__}")
    for fn in list(_subscribers.get(ANY, [])):
        fn(evt)


def _run_isolated(callback: Callable[[], None], label: str | None = None) -> None:
    """Run in a fresh app context (so a fresh session) and commit what it did."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            callback()
            db.session.commit()
        except Exception:  # one subscriber must not break the request that already committed
            db.session.rollback()
            if app.testing and app.config.get("EVENTS_RAISE", True):
                raise
            log.exception("after-commit callback failed: %s", label or callback)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    callbacks = session.info.pop(PENDING_KEY, [])
    if callbacks and has_app_context():
        for callback in callbacks:
            callback()


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)
