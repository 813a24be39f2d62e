"""Fixtures for the whole suite (STYLE.md, Tests).

The schema is built by running the migrations on a fresh database: a temporary SQLite
file on the embedded default, or a new PostgreSQL database on the server named by
DATABASE_URL (dropped at the end). Each test runs inside a transaction that is rolled
back, so it leaves nothing behind. With REDIS_URL set the real Redis is used, under a
key prefix that is deleted at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import email_validator
import pytest
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as _FlaskSession
from redis.exceptions import ConnectionError as RedisConnectionError

from app import create_app
from app.accounts import sessions
from app.config import TestConfig
from app.dbtypes import utcnow
from app.events import ANY, subscribe, unsubscribe
from app.extensions import db as _db
from app.extensions import get_redis, limiter
from tests import factories
from tests.support.databases import create_test_database

# The personas live under the reserved `.test` domain (RFC 2606), which email-validator
# refuses unless told it runs in a test environment (its documented switch).
email_validator.TEST_ENVIRONMENT = True

REAL_SERVICES = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


def pytest_collection_modifyitems(config, items):
    if REAL_SERVICES:
        return
    for item in items:
        if "real_services" in item.keywords:
            item.add_marker(pytest.mark.skip(
                reason="runs in the real-services pass (.ci/run sets DATABASE_URL and REDIS_URL)"))


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as it does in
    production. Otherwise a request reuses the app context the `db` fixture holds open for
    the test, and with it `g`: Flask-Login caches the signed-in user there, so one request's
    user (or another client's) would carry over to the next request."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def build_app(**overrides):
    """A migrated app on its own database, media dir, mail dir and Redis key prefix."""
    database_url, drop_database = create_test_database()
    scratch = Path(tempfile.mkdtemp(prefix="lyceum-files-"))
    prefix = f"lyceum-test-{uuid.uuid4().hex[:8]}"
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_KEY_PREFIX": prefix,
        "CHANNEL_PREFIX": prefix,  # pub/sub channels, presence and flood counters
        # The storage's own prefix too: `limiter.reset()` clears every key under it, and
        # other test runs may share the Redis server.
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix},
        "MEDIA_STORAGE": str(scratch / "media"),
        "MAIL_DIR": str(scratch / "mail"),
        **overrides,
    }

    class Config(TestConfig):
        pass

    for key, value in config.items():
        setattr(Config, key, value)
    app = create_app(Config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()

    def teardown():
        try:
            with app.app_context():
                _db.session.remove()
                _db.engine.dispose()
                if app.config["REDIS_URL"]:
                    redis = get_redis()
                    try:
                        for key in redis.scan_iter(f"*{prefix}*"):
                            redis.delete(key)
                    except RedisConnectionError:  # an app built to test an unreachable Redis
                        pass
        finally:
            drop_database()
            shutil.rmtree(scratch, ignore_errors=True)

    return app, teardown


SERVER_PROCESS = r"""
import json, logging, sys, threading
from werkzeug.serving import make_server
from app import create_app
from app.config import TestConfig

class Config(TestConfig):
    SQLALCHEMY_DATABASE_URI = sys.argv[1]
    REDIS_URL = sys.argv[2] or None
    CHANNEL_PREFIX = sys.argv[3]

for key, value in json.loads(sys.argv[4]).items():
    setattr(Config, key, value)
logging.getLogger("werkzeug").setLevel(logging.WARNING)
server = make_server("127.0.0.1", 0, create_app(Config), threaded=True)
print(server.server_port, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()  # until the test closes our stdin
"""


@contextmanager
def app_in_another_process(config, **overrides):
    """Another process serving the app (werkzeug, threaded) on `config`'s database, Redis and
    key prefix, with `overrides` on top; yields the process, its port as `.port`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_PROCESS, config["SQLALCHEMY_DATABASE_URI"],
         config["REDIS_URL"] or "", config["CHANNEL_PREFIX"], json.dumps(overrides)],
        cwd=Path(__file__).resolve().parents[1], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    try:
        proc.port = int(proc.stdout.readline())
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app():
    app, teardown = build_app()
    yield app
    teardown()


class _ConnectionBoundSession(_FlaskSession):
    """Flask-SQLAlchemy's Session picks the engine by bind key and ignores a session-level
    `bind`, so a session given the test's connection would still commit on a new one."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture(autouse=True)
def db(app):
    """Run the test inside one outer transaction that is rolled back at the end.

    Every session (the test's, each request's, each after-commit subscriber's) joins the
    same connection through a SAVEPOINT, so `commit()` works as usual and is undone."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint",
             "class_": _ConnectionBoundSession})
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _clean_limits_and_files(app):
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


def sign_in_client(test_client: FlaskClient, user, *, remember: bool = False,
                   user_agent: str = "pytest") -> None:
    """Start a real server-side session for `user` and put its token in `test_client`'s
    session cookie (and remember cookie), as a log-in through the form would."""
    sessions.start_session(user, ip="127.0.0.1", user_agent=user_agent, remembered=remember,
                           now=utcnow())
    _db.session.commit()
    # Reload the user at once: the test's session is then inside its SAVEPOINT before a
    # request (a stream that stays open) opens its own on the shared connection; savepoints
    # opened out of order there are released in the wrong order.
    assert user.id
    with test_client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    if remember:
        test_client.set_cookie("remember_token", encode_cookie(user.get_id()))


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
    """Names and payloads of the events delivered after commit during the test."""
    events: list = []

    def capture(evt):
        events.append(evt)

    subscribe(ANY)(capture)
    yield events
    unsubscribe(ANY, capture)


@pytest.fixture
def outbox(app):
    """The mails written by the embedded mail backend, oldest first, as parsed messages."""
    import email
    from email import policy

    class Outbox:
        def messages(self):
            folder = Path(app.config["MAIL_DIR"])
            files = sorted(folder.glob("*.eml")) if folder.exists() else []
            return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]

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
def make_course():
    return factories.make_course


@pytest.fixture
def user_admin(make_user):
    """An admin who may manage users but is not a superuser."""
    return make_user(email="useradmin@example.test", display_name="Uma Useradmin",
                     permissions=("manage_users",))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@pytest.fixture
def tiny_png() -> bytes:
    """A valid 1x1 RGB PNG (built by hand: Pillow is not installed)."""
    import struct
    import zlib
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
