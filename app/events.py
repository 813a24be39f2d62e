"""After-commit domain events (ARCHITECTURE §11).

A service calls `emit("learning.course.completed", enrollment_id=…)`; nothing happens
until the surrounding database transaction commits, and nothing at all if it rolls back.
Other domains `subscribe` at app start. Each subscriber runs in its own app context and
database session, committed on its own, so one failing subscriber neither undoes the
change that emitted the event nor stops the others. Subscribers that do slow or external
work enqueue an RQ job (`app.tasks.enqueue`).

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

PENDING_KEY = "lyceum.on_commit"  # [(transaction, callback)] until the outermost commit
READY_KEY = "lyceum.on_commit.ready"  # callbacks of a committed transaction, run when it ends
UNDO_KEY = "lyceum.on_rollback"  # [(transaction, callback)] to run if that transaction rolls back
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
    """Run `callback` after the current session commits (now, if no transaction is open).

    A callback registered inside a SAVEPOINT (`begin_nested`) is dropped if that savepoint
    rolls back, and waits for the outermost commit if it is released."""
    session = db.session()
    if not session.in_transaction():
        _run_isolated(callback)
        return
    owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_KEY, []).append((owner, callback))


def on_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the current transaction (or the SAVEPOINT it was registered in)
    rolls back: it undoes a side effect outside the database, such as a file stored for a
    row that is then not saved. Nothing runs when the transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # what follows is what must commit for the side effect to stay
    owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(UNDO_KEY, []).append((owner, callback))


def _run_all(callbacks: list[Callable[[], None]]) -> None:
    """Run each callback isolated; in tests, raise the first failure once all have run."""
    if not callbacks or not has_app_context():
        return
    errors: list[Exception] = []
    for callback in callbacks:
        _run_isolated(callback, errors=errors)
    if errors:  # only in tests (EVENTS_RAISE)
        raise errors[0]


def _deliver(evt: Event) -> None:
    for fn in list(_subscribers.get(evt.name, [])):
        _run_isolated(lambda fn=fn: fn(**evt.payload), label=f"{evt.name} -> {fn.__qualname__}")
    for fn in list(_subscribers.get(ANY, [])):
        fn(evt)


def _run_isolated(callback: Callable[[], None], label: str | None = None,
                  errors: list[Exception] | None = None) -> None:
    """Run in a fresh app context (so a fresh session) and commit what it did.

    A failure is logged; in tests (unless EVENTS_RAISE is off) it is raised instead, or
    added to `errors` when the caller collects them to raise after running the rest."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            callback()
            db.session.commit()
        except Exception as exc:  # one subscriber must not break the request that already committed
            db.session.rollback()
            if app.testing and app.config.get("EVENTS_RAISE", True):
                if errors is None:
                    raise
                errors.append(exc)
                return
            log.exception("after-commit callback failed: %s", label or callback)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released; the outer one may roll back
        return
    session.info.pop(UNDO_KEY, None)
    pending = session.info.pop(PENDING_KEY, [])
    if pending:
        session.info.setdefault(READY_KEY, []).extend(callback for _, callback in pending)


@sa_event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """Run a committed transaction's callbacks once it has fully ended, so the session is
    usable again and a failing callback can neither stop the others nor break the commit."""
    if transaction.parent is not None:
        return
    session.info.pop(PENDING_KEY, None)  # ended without a commit (closed): nothing happened
    undo = [callback for _, callback in session.info.pop(UNDO_KEY, [])]  # closed, not committed
    _run_all(undo + session.info.pop(READY_KEY, []))


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    """Drop the on-commit callbacks registered inside the transaction (or SAVEPOINT) that
    rolled back, and run its on-rollback ones."""
    pending = session.info.get(PENDING_KEY)
    if pending:
        session.info[PENDING_KEY] = [(owner, callback) for owner, callback in pending
                                     if not _inside(owner, previous_transaction)]
    undo = session.info.get(UNDO_KEY)
    if undo:
        session.info[UNDO_KEY] = [entry for entry in undo
                                  if not _inside(entry[0], previous_transaction)]
        _run_all([callback for owner, callback in undo if _inside(owner, previous_transaction)])


def _inside(owner, transaction) -> bool:
    while owner is not None:
        if owner is transaction:
            return True
        owner = owner.parent
    return False
