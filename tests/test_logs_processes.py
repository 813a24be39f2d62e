"""Logs of the processes a deployment runs, read from their output: gunicorn's master and
access lines in JSON with the request id, and a real RQ worker's job lines carrying the id of
the request that enqueued the job."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support.apps import build_app
from tests.support.logs import add_probe_routes, json_lines
from tests.support.processes import ROOT, start_worker, stop, wait_for

# These tests commit for real: other processes read what they write.
pytestmark = pytest.mark.committed


def process_env(app, **extra) -> dict:
    env = {**os.environ, "LYCEUM_ENV": "test", "LOG_FORMAT": "json",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], **extra}
    if app.config["REDIS_URL"]:
        env["REDIS_URL"] = app.config["REDIS_URL"]
    return env


def test_gunicorn_writes_json_lines_and_an_access_line_with_the_request_id(tmp_path):
    app, teardown = build_app()
    log_path = tmp_path / "gunicorn.log"
    env = process_env(app, PORT="0", WEB_CONCURRENCY="1")
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                 "wsgi:app"], cwd=ROOT, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
    try:
        port = wait_for(lambda: _listening_port(log_path), what="gunicorn listening")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                         headers={"X-Request-ID": "0123456789abcdef0123456789abcdef"})
        # The worker may still be booting: the request waits in the listen queue meanwhile.
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
        access = wait_for(lambda: [e for e in json_lines(log_path.read_text())
                                   if e["logger"] == "gunicorn.access"], what="an access line")
    finally:
        stop(proc)
        teardown()
    [line] = access
    assert line["request_id"] == "0123456789abcdef0123456789abcdef"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["duration_ms"] >= 0 and line["level"] == "INFO" and line["time"]
    # Every line is JSON (json_lines fails otherwise), the master's included.
    assert any(e["message"].startswith("Starting gunicorn") for e in json_lines(log_path.read_text()))


def _listening_port(log_path: Path) -> int | None:
    for entry in json_lines(log_path.read_text()) if log_path.exists() else []:
        if entry["message"].startswith("Listening at: "):
            return int(entry["message"].split()[2].rsplit(":", 1)[1])
    return None


@pytest.mark.real_services
def test_a_job_run_by_a_worker_logs_with_the_id_of_the_request_that_enqueued_it(tmp_path):
    prefix = f"logs-{uuid.uuid4().hex[:8]}-"
    app, teardown = build_app(JOBS_INLINE=False, RQ_QUEUE_PREFIX=prefix)
    add_probe_routes(app)
    log_path = tmp_path / "worker.log"
    worker = start_worker(process_env(app, RQ_QUEUE_PREFIX=prefix), "default", log_path=log_path)
    try:
        resp = app.test_client().post("/probe/enqueue/probe",
                                      headers={"X-Request-ID": "request-that-enqueued-1"})
        assert resp.status_code == 200
        wait_for(lambda: "Job OK" in log_path.read_text(), what="the job to finish")
        worker_lines = json_lines(log_path.read_text())
        [entry] = [e for e in worker_lines if e["logger"] == "tests.probe"]
    finally:
        stop(worker)
        teardown()
    assert entry["message"] == "job says hello"
    assert entry["request_id"] == "request-that-enqueued-1"
    assert entry["job_func"] == "tests.support.logs.probe_job" and entry["job_id"]
    # RQ's own lines go through the same formatter, and those about the job carry the id too.
    [done] = [e for e in worker_lines if e["logger"] == "rq.worker" and "Job OK" in e["message"]]
    assert (done["request_id"], done["job_id"]) == ("request-that-enqueued-1", entry["job_id"])
