"""Apps for tests: a migrated app on a database of its own (`build_app`), the same app served by
another process (`app_in_another_process`), and a signed-in test client (`sign_in_client`)."""
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

from flask.testing import FlaskClient
from flask_login.utils import encode_cookie
from flask_migrate import upgrade
from redis.exceptions import ConnectionError as RedisConnectionError

from app.accounts import sessions
from app.config import TestConfig
from app.dbtypes import utcnow
from app.extensions import db as _db
from app.extensions import get_redis
from app.factory import create_app
from tests.support.databases import create_test_database

REAL_SERVICES = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


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
from app.factory import create_app
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
        cwd=Path(__file__).resolve().parents[2], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    try:
        proc.port = int(proc.stdout.readline())
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


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

