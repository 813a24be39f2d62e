"""Extension singletons and the Redis / RQ handles, initialised by `create_app`."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import fakeredis
import redis
from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis.cluster import RedisCluster
from rq import Queue
from sqlalchemy import MetaData

# Stable constraint names, so migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
sock = Sock()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    """Every limit of ours guards a write (sign-up, log-in, password reset, checkout: POSTs;
    chat and DMs have their own flood limit), so a read skips the limiter, whose search for
    the limits that might apply cost ~15% of a cached catalog page in an in-process profile.
    A test fails if a limit that applies to GET is ever declared."""
    return request.method in ("GET", "HEAD", "OPTIONS")

# One in-process fake server for the embedded default: every client made from it shares
# keys and pub/sub, as separate processes would through a real Redis (STACK.md fact 4).
FAKE_REDIS_SERVER = fakeredis.FakeServer()


def make_redis(url: str | None) -> redis.Redis:
    if url:
        return redis.Redis.from_url(url)
    return fakeredis.FakeRedis(server=FAKE_REDIS_SERVER)


def make_pubsub_redis(url: str) -> redis.Redis | RedisCluster:
    """The client for live fan-out at `REDIS_PUBSUB_URL`: a cluster client when the server
    there says it runs in cluster mode (`INFO cluster`: `cluster_enabled:1`; any node of the
    cluster will do), a plain one otherwise. Asks the server, so it is called on first use."""
    probe = redis.Redis.from_url(url)
    try:
        clustered = probe.info("cluster").get("cluster_enabled") == 1
    finally:
        probe.close()
    return RedisCluster.from_url(url) if clustered else redis.Redis.from_url(url)


def init_redis(app: Flask) -> None:
    """Attach one Redis client and the RQ queues to the app."""
    client = make_redis(app.config["REDIS_URL"])
    inline = app.config["JOBS_INLINE"]
    app.extensions["redis"] = client
    prefix = app.config.get("RQ_QUEUE_PREFIX", "")
    app.extensions["rq_queues"] = {
        name: Queue(f"{prefix}{name}", connection=client, is_async=not inline)
        for name in app.config["RQ_QUEUES"]
    }


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def redis_key(*parts) -> str:
    """A Redis key or channel name of ours, under the deployment's `CHANNEL_PREFIX`, so two
    deployments (or two test runs) can share one Redis. Every key and channel is built here."""
    return ":".join([current_app.config.get("CHANNEL_PREFIX", "lyceum"), *map(str, parts)])


def get_queue(name: str = "default") -> Queue:
    return current_app.extensions["rq_queues"][name]


@contextmanager
def jobs_run_in_this_process(app: Flask) -> Iterator[None]:
    """Meanwhile, every job enqueued runs at once in this process (RQ's synchronous queues,
    as on the embedded default), whatever `JOBS_INLINE` says: for a one-off command such as
    `flask demo-data`, whose next step needs what its jobs did and which must not depend on
    whether or when a worker runs. Jobs are idempotent, so one a worker also runs (after a
    crash, say) still does its effect once."""
    queues = app.extensions["rq_queues"]
    app.extensions["rq_queues"] = {name: Queue(queue.name, connection=queue.connection, is_async=False)
                                   for name, queue in queues.items()}
    try:
        yield
    finally:
        app.extensions["rq_queues"] = queues
