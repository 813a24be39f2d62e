"""Fixtures for the whole suite (STYLE.md, Tests).

The schema is built by running the migrations on a fresh database: a temporary SQLite
file on the embedded default, or a new PostgreSQL database on the server named by
DATABASE_URL (dropped at the end). Each test runs inside a transaction that is rolled
back, so it leaves nothing behind; a test marked `committed` commits for real on a database of
its own instead (tests/support/databases.py). With REDIS_URL set the real Redis is used, under a
key prefix that is deleted at the end.
"""
from __future__ import annotations

import shutil
import struct
import zlib
from email import message_from_bytes, policy
from pathlib import Path

import email_validator
import pytest
from flask_login import AnonymousUserMixin

from app.accounts import sessions
from app.dbtypes import utcnow
from app.events import ANY, subscribe, unsubscribe
from app.extensions import db as _db
from app.extensions import get_redis, limiter
from tests import factories
from tests.support.apps import REAL_SERVICES, build_app, sign_in_client
from tests.support.databases import is_committed, rolled_back

# The personas live under the reserved `.test` domain (RFC 2606), which email-validator
# refuses unless told it runs in a test environment (its documented switch).
email_validator.TEST_ENVIRONMENT = True


def pytest_collection_modifyitems(config, items):
    if REAL_SERVICES:
        return
    for item in items:
        if "real_services" in item.keywords:
            item.add_marker(pytest.mark.skip(
                reason="runs in the real-services pass (.ci/run sets DATABASE_URL and REDIS_URL)"))


@pytest.fixture(scope="session")
def app():
    app, teardown = build_app()
    yield app
    teardown()


@pytest.fixture(scope="module")
def committed_app():
    """An app on a database of its own whose data is really committed (for tests marked
    `committed`); dropped at the end of the module."""
    app, teardown = build_app()
    yield app
    teardown()


@pytest.fixture(autouse=True)
def db(request):
    """The shared test app's database, inside a transaction rolled back after the test
    (`rolled_back`); None for a test marked `committed`, which commits on a database of its
    own (tests/support/databases.py)."""
    if is_committed(request.node):
        yield None
        return
    with rolled_back(request.getfixturevalue("app")) as database:
        yield database


@pytest.fixture(autouse=True)
def _clean_limits_and_files(request):
    """Rate limits, flood counters and mails of the shared test app start empty (a test marked
    `committed` does not use that app: its own starts empty)."""
    if is_committed(request.node):
        yield
        return
    app = request.getfixturevalue("app")
    limiter.reset()
    with app.app_context():  # message flood counters: user ids repeat once a test rolls back;
        redis = get_redis()     # log-in throttles: the personas' addresses repeat in every test
        for pattern in ("flood:*", "login-throttle:*"):
            for key in redis.scan_iter(f"{app.config['CHANNEL_PREFIX']}:{pattern}"):
                redis.delete(key)
    yield
    for key in ("MAIL_DIR",):
        shutil.rmtree(app.config[key], ignore_errors=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def htmx(client):
    """Request helpers that send the HX-Request header."""

    class Htmx:
        headers = {"HX-Request": "true"}

        def get(self, url, **kw):
            return client.get(url, headers=self.headers, **kw)

        def post(self, url, **kw):
            return client.post(url, headers=self.headers, **kw)

    return Htmx()


@pytest.fixture
def login(client):
    """`login(user)` signs `user` in on `client` (or `on=`) with a real server-side session;
    `user.session_id` is then that session's id."""

    def do_login(user, on=None, **options):
        sign_in_client(on or client, user, **options)
        return user

    return do_login


@pytest.fixture
def open_session():
    """`open_session(user, now=…, remembered=…, user_agent=…)` starts and commits a
    server-side session (what a log-in does) and returns its token."""

    def start(user, *, now=None, remembered=False, user_agent="pytest", ip="127.0.0.1"):
        sessions.start_session(user, ip=ip, user_agent=user_agent, remembered=remembered,
                               now=now or utcnow())
        _db.session.commit()
        return user.session_token

    return start


@pytest.fixture
def signed_in_as():
    """`signed_in_as(token, now=…)`: the user a session token signs in now, or None
    (the loader's service, as each request calls it)."""

    def load(token, *, now=None):
        user = sessions.resume_session(token, now=now or utcnow()).user
        _db.session.commit()
        return user

    return load


@pytest.fixture
def emitted():
    """The events (app.events.Event instances: `.name`, `.payload`) delivered after commit
    during the test, in order."""
    events: list = []

    def capture(evt):
        events.append(evt)

    subscribe(ANY)(capture)
    yield events
    unsubscribe(ANY, capture)


@pytest.fixture
def outbox(app):
    """The mails written by the embedded mail backend, oldest first, as parsed messages."""
    class Outbox:
        def messages(self):
            folder = Path(app.config["MAIL_DIR"])
            files = sorted(folder.glob("*.eml")) if folder.exists() else []
            return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]

        def __len__(self):
            return len(self.messages())

        def last(self):
            return self.messages()[-1]

    return Outbox()


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def make_user():
    return factories.make_user


@pytest.fixture
def learner(make_user):
    return make_user(email="learner@example.test", display_name="Lena Learner")


@pytest.fixture
def stranger(make_user):
    """Someone with no part in the course at hand."""
    return make_user(email="stranger@example.test", display_name="Sam Stranger")


@pytest.fixture
def classmate(make_user):
    """A second learner of the course at hand."""
    return make_user(email="classmate@example.test", display_name="Cleo Classmate")


@pytest.fixture
def creator(make_user):
    return make_user(email="creator@example.test", display_name="Carl Creator")


@pytest.fixture
def admin(make_user):
    return make_user(email="admin@example.test", display_name="Ada Admin", permissions=("superuser",))


@pytest.fixture
def reviewer(make_user):
    """An admin who may review courses (and nothing else)."""
    return make_user(email="reviewer@example.test", display_name="Rita Reviewer",
                     permissions=("review_courses",))


@pytest.fixture
def moderator(make_user):
    """An admin who may moderate but not manage users."""
    return make_user(email="moderator@example.test", display_name="Moe Moderator",
                     permissions=("moderate",))


@pytest.fixture
def anonymous():
    """The user Flask-Login gives a visitor who is not signed in."""
    return AnonymousUserMixin()


@pytest.fixture
def make_course():
    return factories.make_course


@pytest.fixture
def user_admin(make_user):
    """An admin who may manage users but is not a superuser."""
    return make_user(email="useradmin@example.test", display_name="Uma Useradmin",
                     permissions=("manage_users",))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@pytest.fixture
def tiny_png() -> bytes:
    """A valid 1x1 RGB PNG (built by hand: Pillow is not installed)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit, truecolour
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def pytest_terminal_summary(terminalreporter):
    """The money invariants' figures once at the end of the run: its shards may have run on
    different xdist workers, which keep their output to themselves (the figures travel back
    as the reports' `user_properties`)."""
    shards = [value for report in terminalreporter.stats.get("passed", [])
              for name, value in getattr(report, "user_properties", ()) if name == "money_invariants"]
    if shards:
        terminalreporter.section("money invariants")
        terminalreporter.write_line(f"{sum(ops for ops, _ in shards)} random operations in all")
        for _, text in shards:
            terminalreporter.write_line(text)
