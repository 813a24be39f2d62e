"""Publish/subscribe over Redis (ARCHITECTURE §5): live delivery for chat, DMs and notifications.

Services store a row and call `publish(channel, event)`, which sends once the transaction
commits ("stored first, then published"). Each web process keeps ONE subscriber connection
(`bus()`): a listener thread (a greenlet under gevent) reads it and fans every event out to
the local `Subscription`s — one per open socket or stream — through in-memory queues, so a
slow client never holds up the others. Redis pub/sub forgets what nobody heard: after the
listener loses its connection it tells every subscription (`{"type": "bus.resync"}`) to
reload what it may have missed from the database, as a reconnecting client does.

The bus talks to Redis through a transport (app/messaging/redis_pubsub.py): PUBLISH/SUBSCRIBE
on one Redis (`REDIS_URL`, or `REDIS_PUBSUB_URL`), or sharded pub/sub on a Redis Cluster
when `REDIS_PUBSUB_URL` names one.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable

import orjson
from flask import Flask, current_app

from app.events import on_commit
from app.messaging.redis_pubsub import LOST, Transport, channel_transport
from app.observability.metrics import stamp_sent, take_sent

log = logging.getLogger(__name__)

RESYNC = {"type": "bus.resync"}
SUBSCRIBE_TIMEOUT = 5.0  # seconds to wait for Redis to confirm a new channel
QUEUE_LIMIT = 1000  # events waiting for one slow client before it is dropped (it resyncs)


def publish(channel: str, event: dict) -> None:
    """Publish `event` on `channel` once the current transaction commits (now, if none)."""
    on_commit(lambda: publish_now(channel, event))


def publish_now(channel: str, event: dict) -> int:
    """Publish at once; returns how many processes heard it (0 is fine: nobody listening).
    The event carries the time it was sent, for the bus-lag figure (taken off on receipt)."""
    try:
        return channel_transport(current_app).publish(channel, orjson.dumps(stamp_sent(event)))
    except LOST:  # live delivery is best effort; the row is the truth
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
    """The process's one subscriber (a listener of the transport's) and the fan-out to local
    subscriptions."""

    def __init__(self, transport: Transport):
        self._transport = transport
        self._lock = threading.Lock()
        self._local: dict[str, set[Subscription]] = defaultdict(set)
        self._confirmed: dict[str, threading.Event] = {}
        self._listener = transport.listener()
        self._lost = threading.Event()  # a subscribe failed: the listener starts afresh
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
                try:
                    self._listener.subscribe(new)
                except LOST:  # the listener starts again, subscribed to everything wanted
                    log.warning("subscribe failed; reconnecting", exc_info=True)
                    self._lost.set()
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
                    self._listener.unsubscribe(gone)
                except LOST:  # the listener resubscribes what is still wanted
                    log.warning("unsubscribe failed", exc_info=True)

    def subscriber_count(self) -> int:
        with self._lock:
            return len({sub for subs in self._local.values() for sub in subs})

    # -- the listener ------------------------------------------------------------------------
    def _listen(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                if self._lost.is_set():
                    raise ConnectionResetError("a subscribe failed")
                self._listener.read(1.0, self._deliver, self._confirm)
                failures = 0
            except LOST:
                if self._stopped.is_set():
                    return
                failures += 1
                log.warning("bus connection lost; reconnecting", exc_info=failures == 1)
                time.sleep(min(0.1 * 2 ** failures, 5.0))
                self._reconnect()

    def _confirm(self, channel: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
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
        if isinstance(event, dict):
            take_sent(event)
        with self._lock:
            targets = list(self._local.get(name, ()))
        for sub in targets:
            sub.put(event)

    def _reconnect(self) -> None:
        """A fresh listener, subscribed to everything still wanted; everyone resyncs."""
        try:
            self._listener.close()
        except Exception:  # noqa: BLE001 - the old connection is gone either way
            pass
        with self._lock:
            self._lost.clear()
            self._listener = self._transport.listener()
            wanted = list(self._local)
            subs = {sub for subs in self._local.values() for sub in subs}
            for name in wanted:  # the same events: a consumer may be waiting on one
                self._confirmed.setdefault(name, threading.Event()).clear()
        try:
            if wanted:
                self._listener.subscribe(wanted)
        except LOST:
            self._lost.set()
            return  # the listener fails again and we retry with back-off
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
            self._listener.close()
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
                found = _buses[key] = Bus(channel_transport(app))
    return found


def close_buses() -> None:
    """Close every bus of this process (gunicorn's worker_exit, test teardown)."""
    with _buses_lock:
        for key in [key for key in _buses if key[0] == os.getpid()]:
            _buses.pop(key).close()
