"""What operators see of the deployment's processes: gunicorn's workers summed into one scrape
(Prometheus multiprocess mode), and real RQ workers and the clock in `/healthz` and `/metrics`."""
from __future__ import annotations

import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.extensions import get_queue, get_redis
from tests.support.apps import build_app
from tests.support.logs import failing_job, probe_job
from tests.support.observability import (
    booted_workers,
    figure,
    figures_by_process,
    listening_port,
    scrape,
    start_gunicorn,
)
from tests.support.processes import process_env, start_worker, stop, wait_for

# These tests commit for real: other processes read what they write.
pytestmark = pytest.mark.committed


# As long as the whole wait for both workers: on a busy machine a worker's first answers
# (its first database and Redis connections) have been seen to take over 30 s.
REQUEST_TIMEOUT = 120


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as resp:  # a connection of its own each time
        resp.read()
        return resp.status


def test_one_scrape_sums_the_requests_every_gunicorn_worker_answered(tmp_path):
    app, teardown = build_app()
    figures_dir = tmp_path / "prometheus"
    (figures_dir).mkdir()
    (figures_dir / "counter_1.db").write_bytes(b"left by an earlier run")  # the master empties it
    log_path = tmp_path / "gunicorn.log"
    env = process_env(app, PORT="0", WEB_CONCURRENCY="2", LOG_FORMAT="json",
                      PROMETHEUS_MULTIPROC_DIR=str(figures_dir))
    proc = start_gunicorn(env, log_path)
    health = {"endpoint": "main.health"}
    try:
        wait_for(lambda: listening_port(log_path), what="gunicorn listening")
        port = listening_port(log_path)
        wait_for(lambda: len(booted_workers(log_path)) == 2, what="two workers booted")
        base = f"http://127.0.0.1:{port}"
        sent = 0

        def answered_by() -> dict[int, float]:
            counts = figures_by_process(figures_dir, "lyceum_http_requests_total", **health)
            return {pid: n for pid, n in counts.items() if n}

        # Several at once, each on its own connection, until both workers have answered some.
        with ThreadPoolExecutor(max_workers=8) as pool:
            def spread() -> bool:
                nonlocal sent
                statuses = list(pool.map(_get, [f"{base}/healthz"] * 8))
                assert statuses == [200] * 8
                sent += len(statuses)
                return len(answered_by()) >= 2

            wait_for(spread, what="requests answered by both workers", timeout=2 * REQUEST_TIMEOUT)
        per_worker = answered_by()
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as resp:
            text = resp.read().decode()
    finally:
        stop(proc)
        teardown()
    assert set(per_worker) == booted_workers(log_path)
    assert sum(per_worker.values()) == sent
    assert figure(text, "lyceum_http_requests_total", **health) == sent
    assert figure(text, "lyceum_http_request_duration_seconds_count", **health) == sent


@pytest.fixture
def on_workers():
    """An app whose jobs go to RQ workers on queues of its own, heartbeats counted stale after
    3 s; the processes it starts beat every second."""
    prefix = f"obs-{uuid.uuid4().hex[:8]}-"
    app, teardown = build_app(JOBS_INLINE=False, RQ_QUEUE_PREFIX=prefix, HEARTBEAT_STALE_SECONDS=3)
    started = []

    def start(*args: str):
        proc = start_worker(process_env(app, HEARTBEAT_SECONDS="1"), *args)
        started.append(proc)
        return proc

    app.start = start
    yield app
    for proc in started:
        stop(proc)
    with app.app_context():
        redis = get_redis()
        for name in app.config["RQ_QUEUES"]:
            get_queue(name).empty()
        for key in redis.scan_iter(f"*{prefix}*"):
            redis.delete(key)
    teardown()


def _health(app) -> tuple[int, dict]:
    resp = app.test_client().get("/healthz")
    return resp.status_code, resp.json


@pytest.mark.real_services
def test_healthz_follows_real_workers_and_the_clock(on_workers):
    app = on_workers
    code, body = _health(app)
    assert (code, body["status"], body["checks"]["worker"], body["checks"]["clock"]) == \
        (200, "degraded", "never seen", "never seen")

    worker = app.start("default")
    app.start("--cron")
    wait_for(lambda: _health(app) == (200, {"status": "ok", "checks": {
        "database": "ok", "redis": "ok", "worker": "ok", "clock": "ok"}}), what="worker and clock seen")

    stop(worker)
    wait_for(lambda: _health(app)[1]["checks"]["worker"].startswith("not seen for "), what="the worker missed")
    code, body = _health(app)
    assert (code, body["status"]) == (200, "degraded")  # the site still serves: no 503
    assert body["checks"]["clock"] == "ok"
    assert 'role="worker"' in scrape(app.test_client())


@pytest.mark.real_services
def test_queue_depth_and_failed_jobs_are_read_from_redis_when_scraped(on_workers):
    app = on_workers
    client = app.test_client()
    app.start("default")  # nobody listens on `low`
    with app.app_context():
        get_queue("default").enqueue(failing_job)
        for _ in range(2):
            get_queue("low").enqueue(probe_job, "waits")

    wait_for(lambda: figure(scrape(client), "lyceum_jobs_failed", queue="default") == 1,
             what="the failed job counted")
    text = scrape(client)
    assert figure(text, "lyceum_jobs_queued", queue="low") == 2
    assert figure(text, "lyceum_jobs_queued", queue="default") == 0
    assert figure(text, "lyceum_jobs_failed", queue="low") == 0
