"""Structured logs with a request id (app/logs.py): every line of a request carries its id, the
response returns it, and the jobs a request enqueues log with it (here inline, on the embedded
default; tests/test_logs_processes.py runs a real worker and a real gunicorn)."""
from __future__ import annotations

import io
import logging
import re
import threading
from datetime import UTC, datetime

import pytest
import simple_websocket
from flask_sock import Sock
from werkzeug.serving import make_server

from app.logs import JsonFormatter, log_handler, resolve_format
from tests.support.apps import build_app
from tests.support.logs import add_probe_routes, json_lines, probe_log

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def app():
    """A test app of its own, with the probe routes (a failing request is a 500 page)."""
    app, teardown = build_app(PROPAGATE_EXCEPTIONS=False)
    add_probe_routes(app)
    sock = Sock(app)

    @sock.route("/probe/ws")
    def probe_socket(ws):
        probe_log.info("socket got %s", ws.receive(timeout=30))
        ws.send("bye")
        ws.receive(timeout=30)  # until the client closes: no close frame races "bye"

    yield app
    teardown()


class Captured:
    """What the app's own log handler (formatter and filter included) wrote during a test."""

    def __init__(self, log_format: str):
        self.stream = io.StringIO()
        self.handler = log_handler(log_format, stream=self.stream)

    def text(self) -> str:
        return self.stream.getvalue()

    def entries(self) -> list[dict]:
        return json_lines(self.text())

    def probe_entries(self) -> list[dict]:
        return [e for e in self.entries() if e["logger"] == "tests.probe"]


@pytest.fixture
def capture():
    """`capture("json" | "text")`: the root logger also writes through a handler of ours."""
    root = logging.getLogger()
    level, handlers = root.level, []
    root.setLevel(logging.INFO)

    def start(log_format: str = "json") -> Captured:
        captured = Captured(log_format)
        root.addHandler(captured.handler)
        handlers.append(captured.handler)
        return captured

    yield start
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def test_a_requests_log_lines_carry_its_id_and_the_response_returns_it(client, capture):
    log = capture()
    resp = client.get("/probe/log")
    request_id = resp.headers["X-Request-ID"]
    assert NEW_ID.fullmatch(request_id)
    [entry] = log.probe_entries()
    assert entry["message"] == "hello from a request"
    assert entry["request_id"] == request_id


def test_every_request_gets_an_id_of_its_own(client):
    first, second = (client.get("/probe/log").headers["X-Request-ID"] for _ in range(2))
    assert first != second


@pytest.mark.parametrize("incoming", ["0123456789abcdef0123456789abcdef", "req-2026.12_07",
                                      "A" * 64])
def test_a_well_formed_incoming_id_is_kept(client, capture, incoming):
    log = capture()
    resp = client.get("/probe/log", headers={"X-Request-ID": incoming})
    assert resp.headers["X-Request-ID"] == incoming
    assert log.probe_entries()[0]["request_id"] == incoming


@pytest.mark.parametrize("incoming", ["short", "A" * 65, "two words here", "id;rm -rf /x",
                                      "<script>alert(1)</script>", ""])
def test_a_malformed_or_oversized_incoming_id_is_replaced(client, capture, incoming):
    log = capture()
    resp = client.get("/probe/log", headers={"X-Request-ID": incoming})
    request_id = resp.headers["X-Request-ID"]
    assert request_id != incoming and NEW_ID.fullmatch(request_id)
    assert log.probe_entries()[0]["request_id"] == request_id


def test_errors_redirects_and_streams_return_the_id_too(client):
    sent = "0123456789abcdef0123456789abcdef"
    for path in ("/no/such/page", "/probe/fail", "/dashboard/", "/probe/stream"):
        resp = client.get(path, headers={"X-Request-ID": sent})
        assert resp.headers.get("X-Request-ID") == sent, path
    assert client.get("/dashboard/").status_code in (301, 302, 303, 307, 308)


def test_a_failing_request_logs_its_exception_with_its_id(client, capture):
    log = capture()
    resp = client.get("/probe/fail")
    assert resp.status_code == 500
    [entry] = [e for e in log.entries() if e["logger"] == "app.blueprints.errors"]
    assert entry["level"] == "ERROR" and entry["request_id"] == resp.headers["X-Request-ID"]
    assert "RuntimeError: probe request failure" in entry["exception"]


def test_json_lines_have_the_time_level_logger_and_message(client, capture):
    log = capture("json")
    before = datetime.now(UTC)
    resp = client.get("/probe/log")
    [entry] = log.probe_entries()
    logged_at = datetime.fromisoformat(entry["time"])
    assert logged_at.utcoffset().total_seconds() == 0 and logged_at >= before.replace(microsecond=0)
    assert entry == {"time": entry["time"], "level": "INFO", "logger": "tests.probe",
                     "message": "hello from a request",
                     "request_id": resp.headers["X-Request-ID"]}


def test_a_json_line_outside_a_request_has_no_id_and_keeps_the_exception():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.getLogger("tests.probe").makeRecord(
            "tests.probe", logging.ERROR, __file__, 1, 'said "%s"\nover two lines', ("it",),
            exc_info=__import__("sys").exc_info())
    [entry] = json_lines(JsonFormatter().format(record))
    assert entry["message"] == 'said "it"\nover two lines'
    assert "request_id" not in entry and "ValueError: bad value" in entry["exception"]


def test_text_lines_are_for_people_and_name_the_request(client, capture):
    log = capture("text")
    resp = client.get("/probe/log")
    [line] = [ln for ln in log.text().splitlines() if "tests.probe" in ln]
    assert line.endswith(f"INFO tests.probe [req={resp.headers['X-Request-ID']}]: hello from a request")


def test_a_stream_logs_with_its_requests_id(client, capture):
    log = capture()
    resp = client.get("/probe/stream")
    assert resp.get_data(as_text=True) == "data: one\n\n"
    [entry] = log.probe_entries()
    assert entry["message"] == "inside the stream"
    assert entry["request_id"] == resp.headers["X-Request-ID"]


def test_a_websocket_logs_with_its_requests_id(app, capture):
    log = capture()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ws = simple_websocket.Client.connect(
            f"ws://127.0.0.1:{server.server_port}/probe/ws",
            headers={"X-Request-ID": "socket-request-0001"})
        ws.send("hello")
        assert ws.receive(timeout=30) == "bye"
        ws.close()
    finally:
        server.shutdown()
    [entry] = log.probe_entries()
    assert entry["message"] == "socket got hello" and entry["request_id"] == "socket-request-0001"


def test_an_inline_job_logs_with_the_id_of_the_request_that_enqueued_it(client, capture):
    log = capture()
    resp = client.post("/probe/enqueue/probe", headers={"X-Request-ID": "enqueuing-request-01"})
    assert resp.status_code == 200
    [entry] = [e for e in log.probe_entries() if e["message"] == "job says hello"]
    assert entry["request_id"] == "enqueuing-request-01"
    assert entry["job_func"] == "tests.support.logs.probe_job" and entry["job_id"]


def test_the_format_is_json_in_production_and_text_elsewhere():
    assert resolve_format(None, "production") == "json"
    assert resolve_format(None, "development") == "text"
    assert resolve_format(None, "test") == "text"
    assert resolve_format("JSON", "development") == "json"
    assert resolve_format("text", "production") == "text"
    with pytest.raises(ValueError, match="LOG_FORMAT=xml"):
        resolve_format("xml", "production")
