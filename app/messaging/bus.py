"""Publish/subscribe over Redis (ARCHITECTURE §5): live delivery for chat, DMs and notifications.

Services store a row and call `publish(channel, event)`, which sends once the transaction
commits ("stored first, then published"). Each web process keeps ONE subscriber connection
(`bus()`): a listener thread (a greenlet under gevent) reads it and fans every event out to
the local `Subscription`s — one per open socket or stream — through in-memory queues, so a
slow client never holds up the others. Redis pub/sub forgets what nobody heard: after the
listener loses its connection it tells every subscription (`{"type": "bus.resync"}`) to
reload what it may have missed from the database, as a reconnecting client does.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable

import orjson
import redis
from flask import Flask, current_app

from app.events import on_commit
from app.extensions import get_redis, make_redis

log = logging.getLogger(__name__)

RESYNC = {"type": "bus.resync"}
SUBSCRIBE_TIMEOUT = 5.0  # seconds to wait for Redis to confirm a new channel
DRAIN_LIMIT = 10_000  # messages delivered from one burst before the listener looks up
QUEUE_LIMIT = 1000  # events waiting for one slow client before it is dropped (it resyncs)


def publish(channel: str, event: dict) -> None:
    """Publish `event` on `channel` once the current transaction commits (now, if none)."""
    on_commit(lambda: publish_now(channel, event))


def publish_now(channel: str, event: dict) -> int:
    """Publish at once; returns how many processes heard it (0 is fine: nobody listening)."""
    try:
        return get_redis().publish(channel, orjson.dumps(event))
    except redis.RedisError:  # live delivery is best effort; the row is the truth
        log.exception("publish to %s failed", channel)
        return 0


class Subscription:
    """One consumer's view of some channels: `get()` its events in order, `done()` after
    handling each; `close()` when finished."""

    def __init__(self, bus: Bus, channels: tuple[str, ...]):
        self.bus = bus
        self.channels = channels
        self.closed = False
        self._items: deque[dict] = deque()
        self._cond = threading.Condition()
        # The consumer holds an event it has not finished with, or has not started yet (it
        # calls `done()` once its backlog from the database is out).
        self._busy = True
        # Optional `fast(event) -> bool`, called by the listener itself: a consumer that can
        # deliver an event at once without blocking (a non-blocking write of a ready frame)
        # does, and its own thread is not woken. Only while nothing is queued and the
        # consumer is not in the middle of an event, so the order of events never changes.
        self.fast = None

    def put(self, event: dict) -> None:
        """Queue an event for this consumer (the bus does; a handler may add its own)."""
        with self._cond:
            if self.fast is not None and not self.closed and not self._busy and not self._items:
                try:
                    if self.fast(event):
                        return
                except Exception:  # noqa: BLE001 - the slow path still delivers it
                    log.exception("fast delivery failed")
            if len(self._items) >= QUEUE_LIMIT:  # hopelessly behind: the consumer reloads from the database
                self._items.clear()
                event = RESYNC
            self._items.append(event)
            self._cond.notify()

    def put_next(self, event: dict) -> None:
        """From inside `fast`: queue what must go out before anything else (the rest of a
        write the client's full buffer cut short)."""
        with self._cond:
            self._items.appendleft(event)
            self._cond.notify()

    def pending(self) -> bool:
        """Whether events wait in the queue."""
        return bool(self._items)

    def get(self, timeout: float | None = None) -> dict | None:
        """The next event, or None after `timeout` seconds without one (or once closed)."""
        with self._cond:
            if self.closed and not self._items:
                return None
            if not self._items and not self._cond.wait_for(lambda: self._items, timeout):
                return None
            self._busy = True
            return self._items.popleft()

    def done(self) -> None:
        """The event from `get()` is handled: the fast path may deliver again."""
        with self._cond:
            self._busy = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bus.unsubscribe(self)
            self.put({"type": "bus.closed"})  # wakes a consumer blocked in get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Bus:
    """The process's one subscriber connection and the fan-out to local subscriptions."""

    def __init__(self, redis_url: str | None):
        self._redis_url = redis_url
        self._lock = threading.Lock()
        self._local: dict[str, set[Subscription]] = defaultdict(set)
        self._confirmed: dict[str, threading.Event] = {}
        self._pubsub = make_redis(redis_url).pubsub()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="lyceum-bus", daemon=True)
        self._thread.start()

    # -- consumers -------------------------------------------------------------------------
    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A subscription to `channels`, returned once Redis delivers them to this process."""
        channels = tuple(dict.fromkeys(channels))
        sub = Subscription(self, channels)
        waits: list[threading.Event] = []
        with self._lock:
            new = [name for name in channels if not self._local[name]]
            for name in channels:
                self._local[name].add(sub)
                if name in new or not self._confirmed.get(name, threading.Event()).is_set():
                    waits.append(self._confirmed.setdefault(name, threading.Event()))
            if new:
                self._pubsub.subscribe(*new)
        for event in waits:
            event.wait(SUBSCRIBE_TIMEOUT)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            gone = []
            for name in sub.channels:
                local = self._local.get(name)
                if local is not None:
                    local.discard(sub)
                    if not local:
                        del self._local[name]
                        self._confirmed.pop(name, None)
                        gone.append(name)
            if gone and not self._stopped.is_set():
                try:
                    self._pubsub.unsubscribe(*gone)
                except redis.RedisError:  # the listener resubscribes what is still wanted
                    log.warning("unsubscribe failed", exc_info=True)

    def subscriber_count(self) -> int:
        with self._lock:
            return len({sub for subs in self._local.values() for sub in subs})

    # -- the listener ------------------------------------------------------------------------
    def _listen(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                message = self._pubsub.get_message(timeout=1.0)
                failures = 0
                if message is not None:
                    self._dispatch(message)
                    self._drain()
            except (redis.RedisError, OSError, ValueError, AttributeError):
                if self._stopped.is_set():
                    return
                failures += 1
                log.warning("bus connection lost; reconnecting", exc_info=failures == 1)
                time.sleep(min(0.1 * 2 ** failures, 5.0))
                self._reconnect()

    def _drain(self) -> None:
        """Deliver the messages already received, read straight off the connection.

        A notification to 5,000 users is 5,000 messages in one burst, and `get_message`
        costs ~4 µs of Python each (retry wrapper, health check, a dict per message) against
        ~1 µs for reading the reply itself. Published messages go straight out; any other
        reply (a subscribe confirmation, a health check's pong) takes redis-py's own path,
        which keeps its bookkeeping."""
        pubsub = self._pubsub
        conn = pubsub.connection
        for _ in range(DRAIN_LIMIT):  # then back to the loop, which checks for a stop
            if conn is None or not conn.can_read(timeout=0):
                return
            response = conn.read_response(disconnect_on_error=False, push_request=True)
            if isinstance(response, list) and len(response) == 3 and response[0] in (b"message", "message"):
                self._deliver(response[1], response[2])
            elif pubsub.is_health_check_response(response):
                pubsub.health_check_response_counter -= 1
            else:
                message = pubsub.handle_message(response)
                if message is not None:
                    self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        if message["type"] == "message":
            self._deliver(message["channel"], message["data"])
        elif message["type"] == "subscribe":
            name = message["channel"]
            name = name.decode() if isinstance(name, bytes) else name
            with self._lock:
                if name in self._confirmed:
                    self._confirmed[name].set()

    def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            log.warning("ignoring a malformed event on %s", name)
            return
        with self._lock:
            targets = list(self._local.get(name, ()))
        for sub in targets:
            sub.put(event)

    def _reconnect(self) -> None:
        """A fresh connection, subscribed to everything still wanted; everyone resyncs."""
        try:
            self._pubsub.close()
        except Exception:  # noqa: BLE001 - the old connection is gone either way
            pass
        with self._lock:
            self._pubsub = make_redis(self._redis_url).pubsub()
            wanted = list(self._local)
            subs = {sub for subs in self._local.values() for sub in subs}
            for name in wanted:
                self._confirmed[name] = threading.Event()
        try:
            if wanted:
                self._pubsub.subscribe(*wanted)
        except redis.RedisError:
            return  # the next get_message fails again and we retry with back-off
        for sub in subs:
            sub.put(RESYNC)

    def close(self) -> None:
        """Stop the listener and wake every consumer (graceful shutdown)."""
        self._stopped.set()
        with self._lock:
            subs = {sub for subs in self._local.values() for sub in subs}
        for sub in subs:
            sub.put({"type": "bus.closed"})
        try:
            self._pubsub.close()
        except Exception:  # noqa: BLE001
            pass


_buses: dict[tuple[int, int], Bus] = {}
_buses_lock = threading.Lock()


def bus(app: Flask | None = None) -> Bus:
    """This process's bus for `app` (made on first use, and again in a forked child)."""
    app = app or current_app._get_current_object()
    key = (os.getpid(), id(app))
    found = _buses.get(key)
    if found is None:
        with _buses_lock:
            found = _buses.get(key)
            if found is None:
                found = _buses[key] = Bus(app.config["REDIS_URL"])
    return found


def close_buses() -> None:
    """Close every bus of this process (gunicorn's worker_exit, test teardown)."""
    with _buses_lock:
        for key in [key for key in _buses if key[0] == os.getpid()]:
            _buses.pop(key).close()
