"""Logs and error reports as an operator sees them: the JSON lines a process wrote, a fake
Sentry (the outside world, at its HTTP boundary), and the probe routes and jobs that the log
and Sentry tests run (the jobs live here so that a worker process can import them)."""
from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask import Flask, Response

from app.extensions import db
from app.jobs import enqueue, job_session
from tests.support.processes import ROOT

probe_log = logging.getLogger("tests.probe")


def probe_job(note: str) -> None:
    with job_session():
        probe_log.info("job says %s", note)


def failing_job() -> None:
    with job_session():
        raise RuntimeError("probe job failure")


def add_probe_routes(app: Flask) -> None:
    """Routes that exist only on a test app: one logs, one enqueues, one fails, one streams."""

    @app.get("/probe/log")
    def probe_log_line():
        probe_log.info("hello from a request")
        return "logged"

    @app.post("/probe/enqueue/<kind>")
    def probe_enqueue(kind: str):
        if kind == "failing":
            enqueue(failing_job)
        else:
            enqueue(probe_job, "hello")
        db.session.commit()  # jobs go out after the commit
        return "queued"

    @app.get("/probe/fail")
    def probe_fail():
        raise RuntimeError("probe request failure")

    @app.get("/probe/stream")
    def probe_stream():
        def events():
            probe_log.info("inside the stream")
            yield "data: one\n\n"

        return Response(events(), mimetype="text/event-stream")

    @app.get("/probe/sentry-loaded")
    def probe_sentry_loaded():
        return "yes" if "sentry_sdk" in sys.modules else "no"


def json_lines(text: str) -> list[dict]:
    """Every line of a log parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class FakeSentry(ThreadingHTTPServer):
    """Sentry's ingestion endpoint (`POST /api/<project>/envelope/`): keeps every event."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        self.events: list[dict] = []

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/42"


class _EnvelopeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path == "/api/42/envelope/":
            self.server.events.extend(_events(body))
            self.send_response(200)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _events(envelope: bytes) -> list[dict]:
    """The `event` items of an envelope: a header line, then item header and payload lines."""
    lines = envelope.split(b"\n")[1:]
    events = []
    for header, payload in zip(lines[::2], lines[1::2], strict=False):
        if header.strip() and json.loads(header).get("type") == "event":
            events.append(json.loads(payload))
    return events


PROBE_SERVER = r"""
import json, sys, threading
from werkzeug.serving import make_server
from app.factory import create_app
from app.config import TestConfig
from tests.support.logs import add_probe_routes

class Config(TestConfig):
    PROPAGATE_EXCEPTIONS = False  # a failing request is a 500 page, as in production

for key, value in json.loads(sys.argv[1]).items():
    setattr(Config, key, value)
app = create_app(Config)
add_probe_routes(app)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # until the test closes our stdin
"""


class ProbeServer:
    """A test app with the probe routes, served by another process on `config`'s settings."""

    def __init__(self, config: dict):
        self.proc = subprocess.Popen([sys.executable, "-c", PROBE_SERVER, json.dumps(config)],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=15)
