"""After-commit domain events (app/events.py)."""
from __future__ import annotations

import logging
from dataclasses import FrozenInstanceError, dataclass

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.events import ANY, Event, catalogue, emit, on_commit, on_rollback, subscribe, unsubscribe


@dataclass(frozen=True)
class ThingHappened(Event, name="test.thing.happened"):
    """An event of the tests alone (tests/test_event_catalogue.py lists only app's)."""

    thing_id: int


@pytest.fixture
def events_raise_off(app):
    """Subscriber failures are logged instead of raised (as in production)."""
    app.config["EVENTS_RAISE"] = False
    yield
    app.config.pop("EVENTS_RAISE")


@pytest.fixture
def events_log(caplog):
    """caplog for app.events (Alembic's fileConfig disables loggers that exist at upgrade)."""
    logger = logging.getLogger("app.events")
    disabled, logger.disabled = logger.disabled, False
    with caplog.at_level(logging.ERROR, logger="app.events"):
        yield caplog
    logger.disabled = disabled


@pytest.fixture
def listener():
    """A subscriber to `test.thing.happened` that records its payloads."""
    received: list[dict] = []

    def on_thing(event: ThingHappened):
        received.append(event.payload)

    subscribe(ThingHappened)(on_thing)
    yield received
    unsubscribe(ThingHappened, on_thing)


def _touch(db, email="touch@example.com"):
    """Open a transaction with a pending change, as a service would."""
    db.session.add(User(email=email, display_name="Touch"))
    db.session.flush()


def _emails(db) -> set[str]:
    return set(db.session.scalars(sa.select(User.email)))


def test_emit_is_delivered_only_after_commit(db, listener, emitted):
    _touch(db)
    emit(ThingHappened(thing_id=7))
    assert listener == [] and emitted == []
    db.session.commit()
    assert listener == [{"thing_id": 7}]
    assert [(e.name, e.payload) for e in emitted] == [("test.thing.happened", {"thing_id": 7})]


def test_emit_is_dropped_when_the_transaction_rolls_back(db, listener, emitted):
    _touch(db)
    emit(ThingHappened(thing_id=7))
    db.session.rollback()
    db.session.commit()
    assert listener == [] and emitted == []


def test_emit_before_a_savepoint_waits_for_the_outer_commit(db, listener):
    _touch(db)
    emit(ThingHappened(thing_id=1))
    with db.session.begin_nested():
        emit(ThingHappened(thing_id=2))
    assert listener == []
    db.session.commit()
    assert listener == [{"thing_id": 1}, {"thing_id": 2}]


def test_emit_is_dropped_when_the_outer_transaction_rolls_back_after_a_savepoint(db, listener):
    _touch(db)
    with db.session.begin_nested():
        emit(ThingHappened(thing_id=2))
    db.session.rollback()
    db.session.commit()
    assert listener == []


def test_emit_inside_a_rolled_back_savepoint_is_dropped(db, listener):
    _touch(db)
    emit(ThingHappened(thing_id=1))
    savepoint = db.session.begin_nested()
    emit(ThingHappened(thing_id=2))
    savepoint.rollback()
    db.session.commit()
    assert listener == [{"thing_id": 1}]


def test_subscriber_runs_in_its_own_committed_session(db, listener):
    @subscribe(ThingHappened)
    def create_user(event):
        db.session.add(User(email="from-subscriber@example.com", display_name="Sub"))

    try:
        _touch(db)
        emit(ThingHappened(thing_id=1))
        db.session.commit()
    finally:
        unsubscribe(ThingHappened, create_user)
    assert "from-subscriber@example.com" in _emails(db)


def test_failing_subscriber_is_logged_and_keeps_the_emitters_commit(db, listener, events_raise_off,
                                                                    events_log):
    @subscribe(ThingHappened)
    def broken(event):
        db.session.add(User(email="half-done@example.com", display_name="Half"))
        db.session.flush()
        raise RuntimeError("subscriber is broken")

    try:
        _touch(db, email="emitter@example.com")
        emit(ThingHappened(thing_id=1))
        db.session.commit()
    finally:
        unsubscribe(ThingHappened, broken)
    assert "subscriber is broken" in events_log.text
    assert "emitter@example.com" in _emails(db)
    assert "half-done@example.com" not in _emails(db)
    assert listener == [{"thing_id": 1}]  # the other subscriber still ran


def test_failing_subscriber_raises_in_tests_by_default(db):
    @subscribe(ThingHappened)
    def broken(event):
        raise RuntimeError("subscriber is broken")

    try:
        _touch(db)
        emit(ThingHappened(thing_id=1))
        with pytest.raises(RuntimeError, match="subscriber is broken"):
            db.session.commit()
    finally:
        unsubscribe(ThingHappened, broken)


def test_failing_after_commit_callback_does_not_stop_the_others(db, events_raise_off, events_log):
    ran = []

    def broken():
        raise RuntimeError("callback is broken")

    _touch(db, email="kept@example.com")
    on_commit(broken)
    on_commit(lambda: ran.append("second"))
    db.session.commit()
    assert ran == ["second"]
    assert "callback is broken" in events_log.text
    assert "kept@example.com" in _emails(db)  # the session is still usable


def test_on_commit_runs_at_once_without_an_open_transaction(db):
    db.session.commit()
    assert not db.session().in_transaction()
    ran = []
    on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


def test_on_commit_callbacks_run_in_the_order_they_were_registered(db):
    ran = []
    _touch(db)
    for n in range(3):
        on_commit(lambda n=n: ran.append(n))
    db.session.commit()
    assert ran == [0, 1, 2]


def test_callbacks_run_once_even_if_the_session_commits_again(db):
    ran = []
    _touch(db)
    on_commit(lambda: ran.append("once"))
    db.session.commit()
    _touch(db, email="second@example.com")
    db.session.commit()
    assert ran == ["once"]


def test_unsubscribed_function_no_longer_receives(db):
    received = []

    def on_thing(event):
        received.append(event.payload)

    subscribe(ThingHappened)(on_thing)
    subscribe(ThingHappened)(on_thing)  # registering twice delivers once
    _touch(db)
    emit(ThingHappened(thing_id=1))
    db.session.commit()
    unsubscribe(ThingHappened, on_thing)
    _touch(db, email="again@example.com")
    emit(ThingHappened(thing_id=2))
    db.session.commit()
    assert received == [{"thing_id": 1}]


def test_in_tests_a_failing_callback_is_raised_after_the_others_ran(db):
    ran = []

    def broken():
        raise RuntimeError("callback is broken")

    _touch(db, email="kept@example.com")
    on_commit(broken)
    on_commit(lambda: ran.append("second"))
    with pytest.raises(RuntimeError, match="callback is broken"):
        db.session.commit()
    assert ran == ["second"]
    assert "kept@example.com" in _emails(db)  # committed, and the session still works


def test_on_rollback_runs_when_the_transaction_rolls_back(db):
    ran = []
    _touch(db)
    on_rollback(lambda: ran.append("undo"))
    assert ran == []
    db.session.rollback()
    assert ran == ["undo"]
    db.session.commit()
    assert ran == ["undo"]


def test_on_rollback_never_runs_after_a_commit(db):
    ran = []
    _touch(db)
    on_rollback(lambda: ran.append("undo"))
    db.session.commit()
    db.session.rollback()
    assert ran == []


def test_on_rollback_in_a_rolled_back_savepoint_runs_at_once(db):
    ran = []
    _touch(db)
    on_rollback(lambda: ran.append("outer"))
    savepoint = db.session.begin_nested()
    on_rollback(lambda: ran.append("inner"))
    savepoint.rollback()
    assert ran == ["inner"]
    db.session.commit()
    assert ran == ["inner"]


def test_on_rollback_in_a_released_savepoint_waits_for_the_outer_transaction(db):
    ran = []
    _touch(db)
    with db.session.begin_nested():
        on_rollback(lambda: ran.append("inner"))
    assert ran == []
    db.session.rollback()
    assert ran == ["inner"]


def test_on_rollback_runs_when_the_session_closes_without_committing(db):
    ran = []
    _touch(db)
    on_rollback(lambda: ran.append("undo"))
    db.session.close()
    assert ran == ["undo"]


def test_on_rollback_without_an_open_transaction_covers_what_follows(db):
    ran = []
    db.session.commit()
    on_rollback(lambda: ran.append("undo"))
    _touch(db)
    db.session.rollback()
    assert ran == ["undo"]


# --- typed events ----------------------------------------------------------------------------

def test_a_subscriber_receives_the_event_object(db):
    received = []

    def on_thing(event: ThingHappened):
        received.append(event)

    subscribe(ThingHappened)(on_thing)
    try:
        _touch(db)
        emit(ThingHappened(thing_id=7))
        db.session.commit()
    finally:
        unsubscribe(ThingHappened, on_thing)
    assert received == [ThingHappened(thing_id=7)]
    assert received[0].name == "test.thing.happened" and received[0].payload == {"thing_id": 7}


def test_any_receives_every_event_after_the_typed_subscribers(db, listener):
    seen = []

    def on_any(event):
        seen.append((event, list(listener)))

    subscribe(ANY)(on_any)
    try:
        _touch(db)
        emit(ThingHappened(thing_id=3))
        db.session.commit()
    finally:
        unsubscribe(ANY, on_any)
    assert seen == [(ThingHappened(thing_id=3), [{"thing_id": 3}])]


@pytest.mark.parametrize("not_a_type", ["test.thing.happened", "*", ThingHappened(thing_id=1), object, None])
def test_subscribe_takes_an_event_class_only(not_a_type):
    with pytest.raises(TypeError, match="Event class"):
        subscribe(not_a_type)
    with pytest.raises(TypeError, match="Event class"):
        unsubscribe(not_a_type, print)


@pytest.mark.parametrize("not_an_event", ["test.thing.happened", ThingHappened, Event(), {"thing_id": 1}])
def test_emit_takes_a_declared_event_instance_only(db, not_an_event):
    with pytest.raises(TypeError, match="declared event"):
        emit(not_an_event)


def test_emit_with_a_name_and_keywords_is_refused(db):
    with pytest.raises(TypeError):
        emit("test.thing.happened", thing_id=1)


def test_an_event_is_frozen():
    event = ThingHappened(thing_id=1)
    with pytest.raises(FrozenInstanceError):
        event.thing_id = 2


def test_an_event_name_is_declared_once():
    with pytest.raises(TypeError, match="declared twice"):
        @dataclass(frozen=True)
        class Again(Event, name="test.thing.happened"):
            thing_id: int


def test_an_event_needs_a_name():
    with pytest.raises(TypeError):
        class Nameless(Event):
            pass


def test_an_event_cannot_be_a_mutable_dataclass():
    with pytest.raises(TypeError, match="frozen"):
        @dataclass
        class Mutable(Event, name="test.thing.mutable"):
            thing_id: int


def test_the_catalogue_lists_each_event_with_its_subscribers(listener):
    table = catalogue()
    assert table[ThingHappened] == ["tests.test_events.listener.<locals>.on_thing"]
    names = [cls.name for cls in table if cls is not ANY]
    assert names == sorted(names)
