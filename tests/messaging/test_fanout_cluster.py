"""Live fan-out on a Redis Cluster with sharded pub/sub (issue #14, item 4): with
`REDIS_PUBSUB_URL` naming a cluster, the bus publishes with SPUBLISH and listens with
SSUBSCRIBE on each channel's master, across web processes, and starts again (every
subscription resyncs) when a master fails or a channel's slot moves.

A three-master cluster on free ports (tests/support/redis_cluster.py) serves this module;
the queues, rate limits and presence stay on the suite's REDIS_URL."""
from __future__ import annotations

import itertools
import json
import socket
import time
import uuid

import pytest
import redis
import requests
from redis.cluster import RedisCluster

from app.extensions import db as _db
from app.extensions import make_pubsub_redis
from app.learning.enrollment import enroll
from app.messaging import channels, direct
from app.messaging.bus import RESYNC, bus, close_buses, publish_now
from app.messaging.redis_pubsub import ClusterChannels, channel_transport
from tests import factories
from tests.support.apps import app_in_another_process, build_app
from tests.support.live import Live
from tests.support.redis_cluster import redis_cluster

# A local cluster beside the suite's real Redis; the other processes must see committed rows.
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


@pytest.fixture(scope="module")
def cluster():
    with redis_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def cluster_app(cluster):
    app, teardown = build_app(REDIS_PUBSUB_URL=cluster.url)
    try:
        yield app
    finally:
        close_buses()  # this process's listeners stop before the cluster does
        teardown()


@pytest.fixture
def ctx(cluster_app):
    with cluster_app.app_context():
        yield
        _db.session.remove()


@pytest.fixture(scope="module")
def web(cluster, cluster_app):
    """Two more web processes (A and B) on the module's database, Redis and cluster."""
    config = cluster_app.config
    with app_in_another_process(config, REDIS_PUBSUB_URL=cluster.url) as a, \
            app_in_another_process(config, REDIS_PUBSUB_URL=cluster.url) as b:
        yield a.port, b.port


def _events(sub, count: int, timeout: float = 5.0) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        event = sub.get(timeout=0.1)
        if event is not None:
            got.append(event)
    return got


def _shard_channels(cluster, port: int, prefix: str) -> set[str]:
    return {name.decode() for name in cluster.node(port).execute_command("PUBSUB SHARDCHANNELS", f"{prefix}:*")}


def _single_redis_channels(app) -> list:
    """The channels of ours that the suite's one Redis (REDIS_URL) has subscribers on."""
    return redis.Redis.from_url(app.config["REDIS_URL"]).pubsub_channels(f"{app.config['CHANNEL_PREFIX']}:*")


def _on_other_masters(cluster, make_name, count: int) -> list[str]:
    """`count` channel names (`make_name(n)`), each on a different master."""
    found: dict[int, str] = {}
    for n in itertools.count(1):
        name = make_name(n)
        found.setdefault(cluster.master_of(name), name)
        if len(found) == count:
            return list(found.values())
    raise AssertionError("unreachable")


def _heard_again(sub, name: str, timeout: float = 20.0) -> bool:
    """Publish on `name` until `sub` hears it (the listener may still be reconnecting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        publish_now(name, {"type": "again"})
        if any(event.get("type") == "again" for event in _events(sub, 1, timeout=0.3)):
            return True
    return False


# --- the bus in this process --------------------------------------------------------------------

def test_a_cluster_is_recognised_and_the_bus_uses_sharded_pub_sub(cluster, cluster_app, ctx):
    clustered, plain = make_pubsub_redis(cluster.url), make_pubsub_redis(cluster_app.config["REDIS_URL"])
    try:
        assert isinstance(clustered, RedisCluster)
        assert not isinstance(plain, RedisCluster)  # a second, plain Redis for pub/sub
    finally:
        clustered.close()
        plain.close()
    assert isinstance(channel_transport(cluster_app), ClusterChannels)


def test_channels_on_every_master_reach_their_subscribers_in_order(cluster, cluster_app, ctx, wait_for):
    prefix = cluster_app.config["CHANNEL_PREFIX"]
    names = _on_other_masters(cluster, lambda n: channels.course_chat(10_000 + n), 3)
    subs = [bus().subscribe([name]) for name in names]
    try:
        for name in names:  # each is a shard channel on its own master, none on REDIS_URL's Redis
            assert name in _shard_channels(cluster, cluster.master_of(name), prefix)
        assert _single_redis_channels(cluster_app) == []
        for n in range(50):
            for name in names:
                assert publish_now(name, {"type": "x", "n": n}) == 1  # SPUBLISH: one process heard it
        for sub in subs:
            assert [e["n"] for e in _events(sub, 50)] == list(range(50))
    finally:
        for sub in subs:
            sub.close()
    for name in names:  # SUNSUBSCRIBE once the last local subscription closed
        wait_for(lambda name=name: name not in _shard_channels(cluster, cluster.master_of(name), prefix),
                 what=f"{name} unsubscribed")


def test_a_channel_whose_slot_moves_resyncs_and_is_heard_on_its_new_master(cluster, cluster_app, ctx):
    """Resharding: the old master unsubscribes us from the moved slot's channels; the bus
    reads the slot map again, subscribes on the new master and every subscription resyncs."""
    name = f"{channels.course_chat(0)}:{uuid.uuid4().hex[:8]}"
    with bus().subscribe([name]) as sub:
        target = next(port for port in cluster.ports if port != cluster.master_of(name))
        cluster.move_slot(name, target)
        assert RESYNC in _events(sub, 1, timeout=20.0)
        assert _heard_again(sub, name)
        assert name in _shard_channels(cluster, target, cluster_app.config["CHANNEL_PREFIX"])


def test_a_channel_subscribed_after_its_slot_moved_is_heard_on_its_new_master(cluster, cluster_app, ctx):
    """The listener reads the slot map once: its old master answers a channel whose slot
    moved since with MOVED, and the bus reads the map again and subscribes on the new one."""
    first = f"{channels.course_chat(0)}:{uuid.uuid4().hex[:8]}"
    with bus().subscribe([first]) as sub:  # the listener has read the slot map
        second = f"{channels.user_dm(0)}:{uuid.uuid4().hex[:8]}"
        while cluster.node(cluster.ports[0]).cluster("keyslot", second) == \
                cluster.node(cluster.ports[0]).cluster("keyslot", first):
            second = f"{channels.user_dm(0)}:{uuid.uuid4().hex[:8]}"
        cluster.move_slot(second, next(port for port in cluster.ports if port != cluster.master_of(second)))
        with bus().subscribe([second]) as moved:
            assert RESYNC in _events(sub, 1, timeout=20.0)
            assert _heard_again(moved, second)
        assert _heard_again(sub, first)


def test_a_restarted_master_makes_its_subscribers_resync(cluster, cluster_app, ctx):
    """A crashed master loses its subscribers and whatever was published meanwhile: once
    it is back, the bus subscribes again and tells every subscription to reload."""
    name = f"{channels.user_notify(0)}:{uuid.uuid4().hex[:8]}"
    with bus().subscribe([name]) as sub:
        owner = cluster.master_of(name)
        cluster.kill(owner)
        cluster.start(owner)
        cluster.wait_ok()
        assert RESYNC in _events(sub, 1, timeout=30.0)
        assert _heard_again(sub, name)


# --- across two web processes -------------------------------------------------------------------

@pytest.fixture
def room(cluster, ctx):
    """A creator's published course and a learner enrolled in it, whose notification channel
    lives on another master than the course's chat channel."""
    creator = factories.make_user(display_name="Carl Creator")
    course = factories.make_course(creator, status="published")
    _db.session.commit()
    chat_master = cluster.master_of(channels.course_chat(course.id))
    for _ in range(100):
        learner = factories.make_user(display_name="Lena Learner")
        _db.session.commit()
        if cluster.master_of(channels.user_notify(learner.id)) != chat_master:
            break
    enroll(learner, course)
    _db.session.commit()
    return course, creator, learner


def _receive_until(ws, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        data = ws.receive(timeout=max(deadline - time.monotonic(), 0.01))
        if data is not None:
            seen.append(data)
            if text in data:
                return data
    raise AssertionError(f"no frame with {text!r} in {seen!r}")


def _read_until(sock: socket.socket, text: bytes, timeout: float = 15.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while text not in data and time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    assert text in data, f"{text!r} not in {data!r}"
    return data


def test_chat_and_a_dm_notification_cross_web_processes_through_the_cluster(cluster, cluster_app, web, room):
    course, creator, learner = room
    port_a, port_b = web
    prefix = cluster_app.config["CHANNEL_PREFIX"]
    chat_channel, notify_channel = channels.course_chat(course.id), channels.user_notify(learner.id)
    assert cluster.master_of(chat_channel) != cluster.master_of(notify_channel)
    live = Live(cluster_app, port_a)
    learner_cookie, creator_cookie = live.cookie_for(learner), live.cookie_for(creator)
    heard = live.open_ws(f"/ws/chat/{course.id}", {"Cookie": learner_cookie}, port=port_b)
    said = live.open_ws(f"/ws/chat/{course.id}", {"Cookie": creator_cookie}, port=port_a)
    stream = socket.create_connection(("127.0.0.1", port_b), timeout=10)
    try:
        _receive_until(heard, 'id="online"')
        _receive_until(said, 'id="online"')
        stream.sendall((f"GET /notifications/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Accept: text/event-stream\r\nCookie: {learner_cookie}\r\n\r\n").encode())
        _read_until(stream, b"retry: ")

        said.send(json.dumps({"body": "across the cluster"}))  # served by A ...
        assert "Carl Creator" in _receive_until(heard, "across the cluster")  # ... heard on B

        conversation = direct.conversation_with(_db.session.merge(creator), _db.session.merge(learner))
        _db.session.commit()
        sent = requests.post(f"http://127.0.0.1:{port_a}/chat/messages/{conversation.id}",
                             data={"body": "a word in private"}, headers={"Cookie": creator_cookie},
                             allow_redirects=False, timeout=10)
        assert sent.status_code == 302  # stored by A; its notification reaches B's stream:
        assert b"a word in private" in _read_until(stream, b"a word in private")

        # While B listens, the two channels are shard channels on two masters, and the one
        # Redis at REDIS_URL has no subscriber on any channel of ours.
        assert chat_channel in _shard_channels(cluster, cluster.master_of(chat_channel), prefix)
        assert notify_channel in _shard_channels(cluster, cluster.master_of(notify_channel), prefix)
        assert _single_redis_channels(cluster_app) == []
    finally:
        stream.close()
        heard.close()
        said.close()
