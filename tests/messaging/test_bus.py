"""The pub/sub bus: stored first, then published; one subscriber per process fanning out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from app.config import Config
from app.extensions import db, get_redis, make_redis
from app.messaging import bus as bus_module
from app.messaging import channels
from app.messaging.bus import RESYNC, Bus, bus, publish, publish_now
from app.messaging.redis_pubsub import RedisChannels
from app.observability.metrics import SENT_AT


def _channel() -> str:
    return f"{channels.course_chat(0)}:{uuid.uuid4().hex[:8]}"


def _events(sub, count: int, timeout: float = 2.0) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        event = sub.get(timeout=0.1)
        if event is not None:
            got.append(event)
    return got


def test_every_local_subscriber_gets_each_event_in_order(app):
    name = _channel()
    with bus().subscribe([name]) as first, bus().subscribe([name]) as second:
        for n in range(5):
            publish_now(name, {"type": "x", "n": n})
        assert [e["n"] for e in _events(first, 5)] == [0, 1, 2, 3, 4]
        assert [e["n"] for e in _events(second, 5)] == [0, 1, 2, 3, 4]


def test_a_burst_on_many_channels_arrives_whole_and_in_order(app):
    """Thousands of messages at once (a notification to every learner) are read off the
    connection in one drain: each subscription gets all of its own, in order; a malformed
    one in the middle is skipped; a channel subscribed while the burst is read is confirmed
    and hears what comes after."""
    names = [_channel() for _ in range(50)]
    subs = [bus().subscribe([name]) for name in names]
    try:
        pipe = get_redis().pipeline(transaction=False)
        for n in range(40):
            for name in names:
                pipe.publish(name, json.dumps({"type": "x", "n": n}))
            if n == 20:
                pipe.publish(names[0], b"{not json")
        pipe.execute()
        late = _channel()
        with bus().subscribe([late]) as late_sub:  # returns once Redis confirmed it
            publish_now(late, {"type": "late"})
            assert _events(late_sub, 1) == [{"type": "late"}]
        for sub in subs:
            assert [e["n"] for e in _events(sub, 40)] == list(range(40))
            assert sub.get(timeout=0.05) is None
    finally:
        for sub in subs:
            sub.close()


def test_a_subscription_hears_only_its_channels(app):
    mine, other = _channel(), _channel()
    with bus().subscribe([mine]) as sub:
        publish_now(other, {"type": "other"})
        publish_now(mine, {"type": "mine"})
        assert _events(sub, 1) == [{"type": "mine"}]
        assert sub.get(timeout=0.2) is None


def test_one_redis_subscription_per_channel_per_process(app):
    name = _channel()
    redis = get_redis()
    first = bus().subscribe([name])
    second = bus().subscribe([name])
    assert redis.pubsub_numsub(name)[0][1] == 1
    first.close()
    assert redis.pubsub_numsub(name)[0][1] == 1  # the second still listens
    publish_now(name, {"type": "still"})
    assert _events(second, 1) == [{"type": "still"}]
    second.close()
    deadline = time.monotonic() + 2
    while redis.pubsub_numsub(name)[0][1] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert redis.pubsub_numsub(name)[0][1] == 0
    assert publish_now(name, {"type": "nobody"}) == 0


def test_publish_waits_for_the_commit_and_a_rollback_publishes_nothing(app, make_user):
    name = _channel()
    user = make_user()
    with bus().subscribe([name]) as sub:
        user.headline = "changed"
        db.session.flush()  # a transaction is open
        publish(name, {"type": "rolled-back"})
        db.session.rollback()
        user.headline = "changed again"
        db.session.flush()
        publish(name, {"type": "committed"})
        assert sub.get(timeout=0.2) is None  # not before the commit
        db.session.commit()
        assert _events(sub, 1) == [{"type": "committed"}]
        assert sub.get(timeout=0.2) is None


def test_a_closed_subscription_wakes_its_consumer_and_hears_nothing_more(app):
    name = _channel()
    sub = bus().subscribe([name])
    sub.close()
    assert sub.closed and sub.get(timeout=0.1) == {"type": "bus.closed"}
    assert sub.get(timeout=0.1) is None
    publish_now(name, {"type": "late"})
    assert sub.get(timeout=0.2) is None


def test_a_hopelessly_slow_consumer_is_told_to_resync(app, monkeypatch):
    monkeypatch.setattr(bus_module, "QUEUE_LIMIT", 3)
    name = _channel()
    with bus().subscribe([name]) as sub:
        for n in range(10):
            publish_now(name, {"type": "x", "n": n})
        got = _events(sub, 10, timeout=1.0)
        assert RESYNC in got  # it reloads from the database instead of missing events silently
        assert len(got) <= 4


def test_a_malformed_event_is_skipped(app):
    name = _channel()
    with bus().subscribe([name]) as sub:
        get_redis().publish(name, b"{not json")
        publish_now(name, {"type": "ok"})
        assert _events(sub, 1) == [{"type": "ok"}]


@pytest.mark.real_services  # the embedded default's in-process fake cannot drop a connection
def test_after_losing_redis_every_subscriber_resyncs_and_hears_again(app):
    """A dropped connection loses whatever was published meanwhile: each consumer is told
    to reload from the database, and live delivery continues on a fresh connection."""
    name = _channel()
    local = Bus(RedisChannels(make_redis(app.config["REDIS_URL"]), app.config["REDIS_URL"]))
    try:
        with local.subscribe([name]) as sub:
            local._listener._pubsub.connection.disconnect()
            assert RESYNC in _events(sub, 1, timeout=5.0)
            deadline = time.monotonic() + 5
            got = []
            while not got and time.monotonic() < deadline:
                publish_now(name, {"type": "again"})
                got = [e for e in _events(sub, 1, timeout=0.2) if e["type"] == "again"]
            assert got
    finally:
        local.close()


def test_closing_the_bus_ends_every_consumer(app):
    local = Bus(RedisChannels(make_redis(app.config["REDIS_URL"]), app.config["REDIS_URL"]))
    sub = local.subscribe([_channel()])
    local.close()
    assert _events(sub, 1) == [{"type": "bus.closed"}]


def test_each_process_gets_its_own_bus(app):
    assert bus() is bus()
    assert bus(app) is bus()


@pytest.mark.real_services
def test_an_event_published_by_another_process_arrives(app):
    """Two processes share a Redis: what one publishes, the other's bus relays."""
    name = _channel()
    with bus().subscribe([name]) as sub:
        script = textwrap.dedent(f"""
            import json, redis
            redis.Redis.from_url({app.config['REDIS_URL']!r}).publish(
                {name!r}, json.dumps({{"type": "from", "pid": __import__("os").getpid()}}))
        """)
        subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
        got = _events(sub, 1, timeout=5.0)
        assert got and got[0]["type"] == "from" and got[0]["pid"] != os.getpid()


def test_channel_names_follow_the_architecture(app):
    prefix = app.config["CHANNEL_PREFIX"]
    assert channels.course_chat(7) == f"{prefix}:chat:course:7"
    assert channels.user_dm(7) == f"{prefix}:dm:user:7"
    assert channels.user_notify(7) == f"{prefix}:notify:user:7"
    # Outside the tests (which isolate each run), the names are the architecture's.
    assert Config.CHANNEL_PREFIX == "lyceum"


def test_events_travel_as_compact_json(app):
    name = _channel()
    raw = make_redis(app.config["REDIS_URL"]).pubsub()
    raw.subscribe(name)
    raw.get_message(timeout=1.0)  # the subscribe confirmation
    publish_now(name, {"type": "x", "text": "é <b>"})
    message = None
    deadline = time.monotonic() + 2
    while message is None and time.monotonic() < deadline:
        message = raw.get_message(timeout=0.2, ignore_subscribe_messages=True)
    raw.close()
    sent = json.loads(message["data"])
    # With the time it was sent, for the bus-lag figure; listeners take it off (test_observability).
    assert abs(sent.pop(SENT_AT) - time.time()) < 60
    assert sent == {"type": "x", "text": "é <b>"}


def test_the_fast_path_runs_only_while_the_consumer_is_idle_and_caught_up(app):
    """`fast` may deliver from the listener only when nothing is queued and the consumer
    holds no event: otherwise an event could overtake one still being written."""
    name = _channel()
    delivered: list[int] = []
    with bus().subscribe([name]) as sub:
        sub.fast = lambda event: delivered.append(event["n"]) or True
        publish_now(name, {"n": 1})  # the consumer has not said it is caught up yet
        assert _events(sub, 1) == [{"n": 1}] and delivered == []
        sub.done()
        publish_now(name, {"n": 2})
        deadline = time.monotonic() + 2
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert delivered == [2] and not sub.pending()
        sub.fast = lambda event: False  # cannot deliver now (a full socket): queued, in order
        publish_now(name, {"n": 3})
        publish_now(name, {"n": 4})
        assert _events(sub, 2) == [{"n": 3}, {"n": 4}]


def test_what_fast_could_not_finish_goes_out_first(app):
    name = _channel()
    with bus().subscribe([name]) as sub:
        sub.done()

        def half(event):
            sub.fast = None
            sub.put_next({"type": "local.raw", "n": event["n"]})
            return True

        sub.fast = half
        publish_now(name, {"n": 1})
        publish_now(name, {"n": 2})
        assert _events(sub, 2) == [{"type": "local.raw", "n": 1}, {"n": 2}]
