"""After-commit domain events (ARCHITECTURE §11).

Each domain declares the facts it owns in its `events.py`, one frozen dataclass per event,
named once on the class line (`<domain>.<noun>.<past_verb>`):

    @dataclass(frozen=True)
    class CourseCompleted(Event, name="learning.course.completed"):
        enrollment_id: int

A service calls `emit(CourseCompleted(enrollment_id=…))`; nothing happens until the
surrounding database transaction commits, and nothing at all if it rolls back. Other domains
`subscribe(CourseCompleted)` at app start and receive the event object. Each subscriber runs
in its own app context and database session, committed on its own, so one failing subscriber
neither undoes the change that emitted the event nor stops the others. Subscribers that do
slow or external work enqueue an RQ job (`app.tasks.enqueue`).

This kernel module never imports a domain: an event class registers itself when its module
is imported (`Event.__init_subclass__`), and `catalogue()` lists what has registered with the
subscribers of each (tests/test_event_catalogue.py keeps that table in view).

`on_commit(fn)` is the same mechanism for a plain callback (enqueueing a job, publishing
to Redis) that must only happen once the data it refers to is visible to others.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

PENDING_KEY = "lyceum.on_commit"  # [(transaction, callback)] until the outermost commit
READY_KEY = "lyceum.on_commit.ready"  # callbacks of a committed transaction, run when it ends
UNDO_KEY = "lyceum.on_rollback"  # [(transaction, callback)] to run if that transaction rolls back

_declared: dict[str, type[Event]] = {}  # event name -> its class, filled as event modules are imported


@dataclass(frozen=True)
class Event:
    """A fact a domain announces; its dataclass fields are the payload.

    Subclasses are frozen dataclasses (a non-frozen one cannot inherit from this) and give
    their stable name as a class keyword; declaring two classes with one name is an error."""

    name: ClassVar[str]

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = _declared.get(name)
        if known is not None and _qualified(known) != _qualified(cls):  # the same class re-imported is fine
            raise TypeError(f"event name {name!r} is declared twice: {_qualified(known)} and {_qualified(cls)}")
        cls.name = name
        _declared[name] = cls

    @property
    def payload(self) -> dict[str, Any]:
        """The fields as a dict (for logs and tests that compare plain data)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


ANY = Event  # `subscribe(ANY)`: every event, whatever its type
E = TypeVar("E", bound=Event)
Subscriber = Callable[[E], None]

_subscribers: dict[type[Event], list[Callable[[Any], None]]] = defaultdict(list)


def _qualified(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _event_type(event_type: Any) -> type[Event]:
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"subscribe to an Event class (declared in a domain's events.py), not {event_type!r}")
    return event_type


def subscribe(event_type: type[E]) -> Callable[[Subscriber[E]], Subscriber[E]]:
    """Register `fn(event)` for the events of `event_type` (`ANY`: every event)."""
    _event_type(event_type)

    def register(fn: Subscriber[E]) -> Subscriber[E]:
        if fn not in _subscribers[event_type]:
            _subscribers[event_type].append(fn)
        return fn

    return register


def unsubscribe(event_type: type[E], fn: Subscriber[E]) -> None:
    if fn in _subscribers.get(_event_type(event_type), []):
        _subscribers[event_type].remove(fn)


def emit(event: Event) -> None:
    """Deliver `event` to the subscribers of its type once the current transaction commits."""
    if not isinstance(event, Event) or type(event) is Event:
        raise TypeError(f"emit a declared event (an instance of an Event subclass), not {event!r}")
    on_commit(lambda: _deliver(event))


def catalogue() -> dict[type[Event], list[str]]:
    """Every declared event (whose module has been imported), by name, with the qualified
    names of its subscribers in the order they run; `ANY` is listed too if anything
    subscribes to every event."""
    table = {cls: [_qualified(fn) for fn in _subscribers.get(cls, [])]
             for _, cls in sorted(_declared.items())}
    if _subscribers.get(ANY):
        table[ANY] = [_qualified(fn) for fn in _subscribers[ANY]]
    return table


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


def _deliver(event: Event) -> None:
    for fn in list(_subscribers.get(type(event), [])):
        _run_isolated(lambda fn=fn: fn(event), label=f"{event.name} -> {fn.__qualname__}")
    for fn in list(_subscribers.get(ANY, [])):
        fn(event)


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
