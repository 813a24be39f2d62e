"""Fixtures for the socket and stream tests: a real server (werkzeug, threaded; the server is in
tests/support/live.py, the WebSocket client in tests/support/websockets.py), and what its
requests did.

The server has its own app and database (as the browser tests do): its requests commit for
real, so modules using it are marked `committed` and make their own users."""
from __future__ import annotations

import pytest
from flask import got_request_exception, request, request_tearing_down

from app.extensions import db as _db
from app.learning.enrollment import enroll
from tests import factories
from tests.support.apps import app_in_another_process
from tests.support.live import live_server_on_own_database
from tests.support.processes import wait_for as wait_until


@pytest.fixture(scope="module")
def live():
    with live_server_on_own_database() as server:
        yield server


@pytest.fixture
def room(live, ctx):
    """A published course with its creator and one enrolled learner (committed)."""
    creator = factories.make_user(display_name="Carl Creator")
    learner = factories.make_user(display_name="Lena Learner")
    course = factories.make_course(creator, status="published")
    enroll(learner, course)
    _db.session.commit()
    return course, creator, learner


@pytest.fixture
def ctx(live):
    with live.app.app_context():
        yield
        _db.session.remove()


@pytest.fixture
def wait_for():
    """`wait_for(condition, timeout=5, what=...)`: poll until `condition()` is true, or fail
    (tests/support/processes.py's, with a live server's shorter patience)."""

    def wait(condition, timeout: float = 5.0, what: str = "the condition"):
        return wait_until(condition, what, timeout)

    return wait


class ServerRequests:
    """The live server's requests that ended, and the exceptions they raised."""

    def __init__(self):
        self.ended: list[str] = []
        self.errors: list[BaseException] = []

    def on_error(self, sender, exception, **extra):
        self.errors.append(exception)

    def on_end(self, sender, **extra):
        self.ended.append(request.path)


@pytest.fixture
def server_requests(live):
    """Records the live app's finished requests and their exceptions (Flask's signals)."""
    seen = ServerRequests()
    got_request_exception.connect(seen.on_error, live.app)
    request_tearing_down.connect(seen.on_end, live.app)
    try:
        yield seen
    finally:
        got_request_exception.disconnect(seen.on_error, live.app)
        request_tearing_down.disconnect(seen.on_end, live.app)


@pytest.fixture
def second_process(live):
    """The port of another app process on the live app's database and Redis (real services:
    two processes share pub/sub only through a real Redis)."""
    with app_in_another_process(live.app.config) as other:
        yield other.port


@pytest.fixture(params=[pytest.param(True, id="fast-path"), pytest.param(False, id="public-apis-only")])
def fast_path(request, live, monkeypatch) -> bool:
    """The live server's LIVE_FAST_PATH for this test (read when a socket or stream opens):
    a test that asks for it runs once with the raw-socket fast path, once without."""
    monkeypatch.setitem(live.app.config, "LIVE_FAST_PATH", request.param)
    return request.param
