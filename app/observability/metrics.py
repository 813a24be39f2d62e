"""Prometheus figures at `/metrics` (ARCHITECTURE §13).

Counted as things happen, in each process: HTTP requests by method, Flask endpoint and
status, and their latency (the endpoint's name, never the raw path, so the number of series
stays bounded); open chat sockets and event streams; the live bus's lag, from a publish to
this process's listener receiving it. Read when scraped (`exposition(sources)`): whatever the
caller's sources yield, e.g. queue depths and failed jobs (`job_figures`), heartbeats
(`heartbeat_figures`) and the money waiting (the view's own, from the commerce services).

gunicorn runs several processes and a scrape reaches one of them: with
`PROMETHEUS_MULTIPROC_DIR` set, every process writes its figures to files there and a scrape
sums them all (prometheus_client's multiprocess mode; the open-connection gauges count live
processes only, `livesum`). Without it (`flask run`, the tests) a process reports its own.

Access (`may_scrape`): the client's address (after `PROXY_TRUSTED_HOPS`: behind nginx a
visitor is never loopback) in `METRICS_ALLOW`, or `Authorization: Bearer <METRICS_TOKEN>`.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import redis
from flask import Flask, request
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.observability import MULTIPROC_DIR

log = logging.getLogger(__name__)

# What `generate_latest` writes: the text format every Prometheus reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STARTED = "lyceum.started"  # the request's start, in its WSGI environ
# The event field that carries its publish time across the bus (taken off before delivery).
SENT_AT = "_sent_at"

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "lyceum_http_requests", "HTTP requests answered, by method, Flask endpoint and status",
    ("method", "endpoint", "status"), registry=REGISTRY)
HTTP_LATENCY = Histogram(
    "lyceum_http_request_duration_seconds",
    "Time to answer a request, by method and Flask endpoint (a stream: until its headers)",
    ("method", "endpoint"), registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
LIVE_CONNECTIONS = Gauge(
    "lyceum_live_connections", "Open chat sockets (chat_socket) and event streams (event_stream)",
    ("kind",), registry=REGISTRY, multiprocess_mode="livesum")
BUS_LAG = Histogram(
    "lyceum_bus_lag_seconds", "Time from publishing a live event to a web process's listener receiving it",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))

CHAT_SOCKET = "chat_socket"
EVENT_STREAM = "event_stream"
for _kind in (CHAT_SOCKET, EVENT_STREAM):  # both series exist from the start, at 0
    LIVE_CONNECTIONS.labels(_kind)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR))


# --- counted as things happen -------------------------------------------------------------------

def instrument(app: Flask) -> None:
    """Count every request the app answers, and time it. Called before any other hook is
    registered: the start is stamped first, and the count taken after every other
    after-request hook. Checks `METRICS_ALLOW` at start, so a typo stops the app."""
    allowed_networks(app.config.get("METRICS_ALLOW") or "")

    @app.before_request
    def stamp_start() -> None:
        request.environ[STARTED] = time.perf_counter()

    @app.after_request
    def count_request(response):
        method = request.method if request.method in METHODS else "other"
        endpoint = request.endpoint or "none"  # no route matched (a 404, a 405)
        HTTP_REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        started = request.environ.get(STARTED)
        # A chat socket answers when it closes, hours later: counted, not timed.
        if started is not None and request.headers.get("Upgrade", "").lower() != "websocket":
            HTTP_LATENCY.labels(method, endpoint).observe(time.perf_counter() - started)
        return response


def connection_opened(kind: str) -> None:
    LIVE_CONNECTIONS.labels(kind).inc()


def connection_closed(kind: str) -> None:
    LIVE_CONNECTIONS.labels(kind).dec()


def stamp_sent(event: dict) -> dict:
    """The event as it goes on the bus: with the time it was sent."""
    return {**event, SENT_AT: time.time()}


def take_sent(event: dict) -> None:
    """On receipt: take the send time off the event (consumers see what was published) and
    count the lag. Clocks of different machines may disagree a little; a negative lag is 0."""
    sent = event.pop(SENT_AT, None)
    if isinstance(sent, int | float):
        BUS_LAG.observe(max(0.0, time.time() - sent))


# --- who may scrape -----------------------------------------------------------------------------

@lru_cache(maxsize=8)
def allowed_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`METRICS_ALLOW` read: CIDR blocks (or single addresses), comma-separated."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def may_scrape(remote_addr: str | None, authorization: str | None, *, allow: str,
               token: str | None) -> bool:
    """Whether a request may read the figures: the right bearer token (compared in constant
    time), or a client address inside `allow`."""
    if token and authorization:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket
    return any(address in network for network in allowed_networks(allow or ""))


# --- read when scraped --------------------------------------------------------------------------

Source = Callable[[], Iterable[Metric]]


class _Forward:
    """Another registry's figures, inside the scrape's registry (one process's own)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return self.registry.collect()


class _Sources:
    """Figures read at scrape time. A source whose database or Redis fails is left out of
    this scrape (and logged); the rest are still reported."""

    def __init__(self, sources: Iterable[Source]):
        self.sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily("lyceum_scrape_source_errors",
                                   "Scrape-time sources that failed in this scrape", labels=["source"])
        for source in self.sources:
            name = getattr(source, "__name__", type(source).__name__)
            try:
                found = list(source())
            except (SQLAlchemyError, redis.RedisError):
                log.warning("metrics source %s failed", name, exc_info=True)
                db.session.rollback()
                errors.add_metric([name], 1)
                continue
            yield from found
        yield errors


def exposition(sources: Iterable[Source] = ()) -> bytes:
    """Every figure in Prometheus's text format: all processes' (multiprocess mode) or this
    one's, then the scrape-time sources'."""
    registry = CollectorRegistry(auto_describe=False)  # nothing is collected before the scrape
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(_Sources(sources))
    return generate_latest(registry)


def job_figures(queues: dict[str, Queue]) -> Source:
    """Jobs waiting in each RQ queue, and in each queue's failed-job registry (by the queue's
    short name: `high`, `default`, `low`)."""

    def jobs() -> Iterator[Metric]:
        queued = GaugeMetricFamily("lyceum_jobs_queued", "Jobs waiting in each RQ queue", labels=["queue"])
        failed = GaugeMetricFamily("lyceum_jobs_failed", "Jobs in each RQ queue's failed-job registry",
                                   labels=["queue"])
        for name, queue in queues.items():
            queued.add_metric([name], queue.count)
            failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        return [queued, failed]

    return jobs


def gauge(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    """One gauge family with one series per key of `values`."""
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family
