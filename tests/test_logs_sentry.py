"""Optional error reports (SENTRY_DSN, app/logs.py): a failing request and a failing job reach
Sentry, here a fake ingestion server (the outside world, faked at its HTTP boundary); without
a DSN Sentry's SDK is not even loaded."""
from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from tests.support.apps import build_app
from tests.support.logs import FakeSentry, ProbeServer, add_probe_routes
from tests.support.processes import start_worker, stop, wait_for

# These tests commit for real: other processes read what they write.
pytestmark = pytest.mark.committed


@pytest.fixture
def sentry():
    server = FakeSentry()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def database():
    app, teardown = build_app()
    yield app.config["SQLALCHEMY_DATABASE_URI"]
    teardown()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def exception_of(event: dict) -> tuple[str, str]:
    [value] = event["exception"]["values"][-1:]
    return value["type"], value["value"]


def test_a_failing_request_is_reported_with_its_request_id(sentry, database):
    server = ProbeServer({"SQLALCHEMY_DATABASE_URI": database, "SENTRY_DSN": sentry.dsn})
    try:
        status, headers, _ = get(f"{server.url}/probe/fail",
                                 {"X-Request-ID": "failing-request-0001", "Cookie": "session=secret"})
        assert status == 500 and headers["X-Request-ID"] == "failing-request-0001"
        [event] = wait_for(lambda: [e for e in sentry.events if "exception" in e],
                           what="the error event")
    finally:
        server.close()
    assert exception_of(event) == ("RuntimeError", "probe request failure")
    assert event["tags"]["request_id"] == "failing-request-0001"
    assert event["environment"] == "test"
    assert "secret" not in str(event)  # send_default_pii=False: no cookies


def test_without_a_dsn_nothing_is_loaded_or_sent(sentry, database):
    server = ProbeServer({"SQLALCHEMY_DATABASE_URI": database, "SENTRY_DSN": None})
    try:
        assert get(f"{server.url}/probe/fail")[0] == 500
        assert get(f"{server.url}/probe/sentry-loaded")[2] == "no"
    finally:
        server.close()
    assert sentry.events == []


@pytest.mark.real_services
def test_a_failing_job_is_reported_with_the_id_of_the_request_that_enqueued_it(sentry, tmp_path):
    prefix = f"sentry-{uuid.uuid4().hex[:8]}-"
    app, teardown = build_app(JOBS_INLINE=False, RQ_QUEUE_PREFIX=prefix)
    add_probe_routes(app)
    env = {"LYCEUM_ENV": "test", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": app.config["REDIS_URL"], "RQ_QUEUE_PREFIX": prefix,
           "SENTRY_DSN": sentry.dsn}
    worker = start_worker({**os.environ, **env}, "default", log_path=tmp_path / "worker.log")
    try:
        resp = app.test_client().post("/probe/enqueue/failing",
                                      headers={"X-Request-ID": "request-of-failing-job"})
        assert resp.status_code == 200
        [event] = wait_for(lambda: [e for e in sentry.events if "exception" in e],
                           what="the job's error event")
    finally:
        stop(worker)
        teardown()
    assert exception_of(event) == ("RuntimeError", "probe job failure")
    assert event["tags"]["request_id"] == "request-of-failing-job"
    assert event["extra"]["rq-job"]["func"] == "tests.support.logs.failing_job"
