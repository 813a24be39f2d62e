"""How the bus reaches Redis (ARCHITECTURE §5): PUBLISH/SUBSCRIBE on one Redis, or sharded
pub/sub (SPUBLISH/SSUBSCRIBE) on a Redis Cluster when `REDIS_PUBSUB_URL` names one.

A transport publishes and makes listeners. A listener is one process's subscriber side:
`subscribe`/`unsubscribe` channel names, and `read`, which waits for replies and hands every
published message to `deliver(channel, data)` and every confirmed subscription to
`confirmed(channel)`. It raises one of `LOST` when the bus must start afresh with a new
listener (and tell every subscription to resync): a dropped connection, a failed node, a
channel whose slot moved to another master."""
from __future__ import annotations

import logging
import select
import socket
import threading
from collections import Counter
from collections.abc import Callable

import redis
from flask import Flask
from redis.client import PubSub
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException

from app.extensions import make_pubsub_redis, make_redis

log = logging.getLogger(__name__)

DRAIN_LIMIT = 10_000  # replies read from one connection in a burst before the listener looks up
# What a listener raises when it must be replaced. OSError, ValueError and AttributeError
# come from a socket closed under a read (the bus closing, or dropping a broken connection).
LOST = (redis.RedisError, RedisClusterException, OSError, ValueError, AttributeError)

Deliver = Callable[[bytes, bytes], None]
Confirmed = Callable[[bytes], None]


class ChannelMoved(redis.ConnectionError):
    """The cluster unsubscribed us from a channel we still want: its slot has a new master."""


def drain(pubsub: PubSub, published: tuple, deliver: Deliver, reply: Callable[[object], None]) -> None:
    """Deliver the replies already received on `pubsub`'s connection, read straight off it.

    A notification to 5,000 users is 5,000 messages in one burst, and `get_message` costs
    ~4 µs of Python each (retry wrapper, health check, a dict per message) against ~1 µs for
    reading the reply itself. Published messages (`published`: their reply type) go straight
    to `deliver`; any other reply (a subscribe confirmation, a health check's pong) goes to
    `reply`, which hands it to redis-py's own path, keeping its bookkeeping."""
    conn = pubsub.connection
    for _ in range(DRAIN_LIMIT):  # then back to the listener's loop, which checks for a stop
        if conn is None or not conn.can_read(timeout=0):
            return
        response = conn.read_response(disconnect_on_error=False, push_request=True)
        if isinstance(response, list) and len(response) == 3 and response[0] in published:
            deliver(response[1], response[2])
        elif pubsub.is_health_check_response(response):
            pubsub.health_check_response_counter -= 1
        else:
            reply(response)


class RedisChannels:
    """One Redis (at `url`; fakeredis without one): PUBLISH, and one SUBSCRIBE connection per
    listener."""

    def __init__(self, client: redis.Redis, url: str | None):
        self.client = client
        self._url = url

    def publish(self, channel: str, data: bytes) -> int:
        return self.client.publish(channel, data)

    def listener(self) -> RedisListener:
        # A client of its own: the connection a closed listener gives back to its pool may
        # still be touched by the listener's thread, so that pool must lend it to no one else.
        return RedisListener(make_redis(self._url).pubsub())


class RedisListener:
    PUBLISHED = (b"message", "message")

    def __init__(self, pubsub: PubSub):
        self._pubsub = pubsub

    def subscribe(self, names: list[str]) -> None:
        self._pubsub.subscribe(*names)

    def unsubscribe(self, names: list[str]) -> None:
        self._pubsub.unsubscribe(*names)

    def read(self, timeout: float, deliver: Deliver, confirmed: Confirmed) -> None:
        message = self._pubsub.get_message(timeout=timeout)
        if message is None:
            return

        def reply(response) -> None:
            handled = self._pubsub.handle_message(response)
            if handled is not None:
                self._dispatch(handled, deliver, confirmed)

        self._dispatch(message, deliver, confirmed)
        drain(self._pubsub, self.PUBLISHED, deliver, reply)

    @staticmethod
    def _dispatch(message: dict, deliver: Deliver, confirmed: Confirmed) -> None:
        if message["type"] == "message":
            deliver(message["channel"], message["data"])
        elif message["type"] == "subscribe":
            confirmed(message["channel"])

    def close(self) -> None:
        self._pubsub.close()


class ClusterChannels:
    """A Redis Cluster: SPUBLISH, routed by the channel's hash slot to its master, and
    sharded listeners."""

    def __init__(self, cluster: RedisCluster, url: str):
        self.client = cluster
        self._url = url

    def publish(self, channel: str, data: bytes) -> int:
        return self.client.spublish(channel, data)

    def listener(self) -> ShardedListener:
        # Every node the publisher knows may tell the listener the slots: not only the one
        # named by the URL, which may be the node that just failed.
        known = [ClusterNode(node.host, node.port) for node in self.client.get_nodes()]
        return ShardedListener(lambda: RedisCluster.from_url(self._url, startup_nodes=known))


class ShardedListener:
    """SSUBSCRIBE: a channel lives on the master that owns its hash slot, so there is one
    subscriber connection per master that owns a subscribed channel, all read by one
    listener (it waits on their sockets, and on a wake-up pipe for a master's new one).

    The slot map is read once, by the listener's own cluster client (made on first use: a
    new listener after a failure reads the map afresh). A master that fails, a `MOVED`
    answer to SSUBSCRIBE, or the cluster unsubscribing a channel we still want (its slot was
    resharded) raises, and the bus starts again with a new listener."""

    PUBLISHED = (b"smessage", "smessage")

    def __init__(self, make_cluster: Callable[[], RedisCluster]):
        self._make_cluster = make_cluster
        self._cluster: RedisCluster | None = None
        self._by_node: dict[str, PubSub] = {}
        self._node_of: dict[str, PubSub] = {}
        self._routing = threading.Lock()  # consumers (subscribing) and the bus (starting again)
        self._lock = threading.Lock()
        self._leaving: Counter[bytes] = Counter()  # SUNSUBSCRIBEs sent, not yet confirmed
        self._wake_read, self._wake_write = socket.socketpair()

    def subscribe(self, names: list[str]) -> None:
        with self._routing:
            if self._cluster is None:
                self._cluster = self._make_cluster()
            opened = False
            try:
                for name in names:
                    node = self._cluster.get_node_from_key(name)
                    pubsub = self._by_node.get(node.name)
                    if pubsub is None:
                        pubsub = self._cluster.get_redis_connection(node).pubsub()
                        pubsub.ssubscribe(name)  # connects: only then may the listener wait on it
                        self._by_node[node.name] = pubsub
                        opened = True
                    else:
                        pubsub.ssubscribe(name)
                    self._node_of[name] = pubsub
            finally:
                if opened:
                    self._wake_write.send(b"\0")  # the listener waits on the new connection too

    def unsubscribe(self, names: list[str]) -> None:
        with self._routing:
            for name in names:
                pubsub = self._node_of.pop(name, None)
                if pubsub is not None:
                    with self._lock:
                        self._leaving[name.encode()] += 1
                    pubsub.sunsubscribe(name)

    def read(self, timeout: float, deliver: Deliver, confirmed: Confirmed) -> None:
        pubsubs = tuple(self._by_node.values())
        # redis-py has no wait on several connections: poll their sockets (`_sock`: None once
        # a connection is dropped, and a dropped one is a lost master).
        sockets = [p.connection and p.connection._sock for p in pubsubs]
        if not all(sockets):
            raise redis.ConnectionError("a subscriber connection to the cluster is gone")
        ready = [p for p in pubsubs if p.connection.can_read(timeout=0)]
        if not ready:
            poller = select.poll()  # gevent's, under gevent; no limit on descriptor numbers
            by_fd = {self._wake_read.fileno(): None}
            poller.register(self._wake_read, select.POLLIN)
            for pubsub, sock in zip(pubsubs, sockets, strict=True):
                by_fd[sock.fileno()] = pubsub
                poller.register(sock, select.POLLIN)
            events = poller.poll(timeout * 1000)
            ready = [by_fd[fd] for fd, _ in events if by_fd.get(fd) is not None]
            if any(by_fd.get(fd, 0) is None for fd, _ in events):
                self._wake_read.recv(4096)
        for pubsub in ready:
            drain(pubsub, self.PUBLISHED, deliver,
                  lambda response, pubsub=pubsub: self._reply(pubsub, response, confirmed))

    def _reply(self, pubsub: PubSub, response, confirmed: Confirmed) -> None:
        kind = response[0] if isinstance(response, list) and response else None
        if kind in (b"ssubscribe", "ssubscribe"):
            confirmed(response[1])
        elif kind in (b"sunsubscribe", "sunsubscribe"):
            name = response[1] if isinstance(response[1], bytes) else response[1].encode()
            with self._lock:
                if not self._leaving[name]:
                    raise ChannelMoved(f"the cluster unsubscribed {name!r}")
                self._leaving[name] -= 1
                if not self._leaving[name]:
                    del self._leaving[name]
        pubsub.handle_message(response)

    def close(self) -> None:
        for pubsub in tuple(self._by_node.values()):
            pubsub.close()
        if self._cluster is not None:
            self._cluster.close()
        self._wake_write.close()
        self._wake_read.close()


Transport = RedisChannels | ClusterChannels
_made_lock = threading.Lock()


def channel_transport(app: Flask) -> Transport:
    """The app's transport, made on first use: `REDIS_PUBSUB_URL` when set (a cluster if the
    server there says `cluster_enabled:1`), otherwise the app's own Redis (`REDIS_URL`, or
    fakeredis on the embedded default)."""
    found = app.extensions.get("channel_transport")
    if found is None:
        with _made_lock:
            found = app.extensions.get("channel_transport")
            if found is None:
                url = app.config.get("REDIS_PUBSUB_URL")
                if not url:
                    found = RedisChannels(app.extensions["redis"], app.config["REDIS_URL"])
                else:
                    client = make_pubsub_redis(url)
                    found = (ClusterChannels(client, url) if isinstance(client, RedisCluster)
                             else RedisChannels(client, url))
                app.extensions["channel_transport"] = found
    return found
