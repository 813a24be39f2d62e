"""The composition root: `create_app` wires configuration, extensions, blueprints, CLI
commands, error handlers and event subscribers. It sits above every layer of the import
contract, so it imports all of them at the top; nothing in `app` imports it back (worker.py,
wsgi.py and the tests do)."""
from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from app.accounts.oauth import init_oauth
from app.blueprints.auth.session_loader import load_user
from app.blueprints.errors import register_error_handlers
from app.blueprints.filters import register_filters
from app.blueprints.limits import register_body_limits
from app.blueprints.security import register_security
from app.cli import register_cli
from app.config import Config, settle_environment
from app.dbtypes import declared_writing
from app.extensions import csrf, db, init_redis, limiter, login_manager, migrate, sock
from app.logs import RequestIds, configure_logging, init_error_reports, resolve_format
from app.observability.metrics import instrument
from app.policy import register_predicates
from app.proxy import trust_proxies

BLUEPRINTS = (
    ("app.blueprints.main", "/"),
    ("app.blueprints.auth", "/auth"),
    ("app.blueprints.catalog", "/courses"),
    ("app.blueprints.creators", "/creators"),
    ("app.blueprints.studio", "/studio"),
    ("app.blueprints.learn", "/learn"),
    ("app.blueprints.certificates", "/certificates"),
    ("app.blueprints.dashboard", "/dashboard"),
    ("app.blueprints.chat", "/"),  # /chat/… pages and /ws/… sockets
    ("app.blueprints.notifications", "/notifications"),
    ("app.blueprints.admin", "/admin"),
    ("app.blueprints.checkout", "/checkout"),
    ("app.blueprints.webhooks", "/webhooks"),
    ("app.blueprints.api", "/api/v1"),
    ("app.blueprints.oauth", "/"),  # /oauth/… and /.well-known/oauth-authorization-server
)

# Every domain's models, so migrations and relationships see all tables.
MODELS = ("app.accounts.models", "app.catalog.models", "app.commerce.models",
          "app.learning.models", "app.messaging.models", "app.moderation.models",
          "app.analytics.models")

# Modules whose import registers event subscribers (ARCHITECTURE §11).
SUBSCRIBERS = ("app.messaging.subscribers", "app.learning.subscribers", "app.commerce.subscribers",
               "app.messaging.chat", "app.analytics.subscribers")


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Config.INSTANCE_PATH))
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    # Production refuses to start on a missing or development secret (UnsafeConfiguration).
    settle_environment(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # Logs and error reports (app/logs.py): JSON lines in production, a request id on each.
    app.config["LOG_FORMAT"] = resolve_format(app.config["LOG_FORMAT"], app.config["LYCEUM_ENV"])
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    init_error_reports(app.config)

    for module in MODELS:
        __import__(module)
    # Ids in URLs fit the database's integer columns: a larger one is a 404, not an overflow.
    app.url_map.converters["int"] = BoundedIntConverter
    trust_proxies(app)
    app.wsgi_app = RequestIds(app.wsgi_app)
    instrument(app)  # first: its start stamp runs before, its count after, every other hook
    _init_extensions(app)
    _register_blueprints(app)
    register_error_handlers(app)
    register_body_limits(app)
    register_security(app)
    register_filters(app)
    register_predicates(app)
    register_cli(app)
    for module in SUBSCRIBERS:
        __import__(module)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    csrf.init_app(app)
    sock.init_app(app)
    init_redis(app)
    if app.config["REDIS_URL"]:
        app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    else:
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    init_oauth(app)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _expects_writes() -> bool:
    """Whether the transaction being opened is one that will write: any request but a plain
    GET/HEAD/OPTIONS (a POST), a GET of a view marked `dbtypes.writes_on_get`, and whatever
    declares `dbtypes.writing()` (each chat frame a room socket stores). Pages, streams, a room
    socket's reads and work outside a request (the CLI, the tests' own sessions) stay
    deferred: a socket or stream that held the write lock while it waited would stop every
    other writer."""
    if declared_writing():
        return True
    if not has_request_context():
        return False
    if request.method not in READ_ONLY_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "writes_on_get", False)


def _tune_sqlite(engine) -> None:
    """Foreign keys on, WAL for concurrent readers, and transactions that SQLAlchemy
    controls itself (so SAVEPOINTs work: the pysqlite driver's own are broken).

    A request that writes takes the write lock when its transaction begins (`BEGIN IMMEDIATE`),
    waiting up to the busy timeout for another writer. Deferred, it would read first and then
    ask to write: SQLite does not wait to upgrade a read transaction in WAL mode (its snapshot
    may be stale), it fails at once with "database is locked", so two withdrawals at once were
    a 500. Pages and streams keep deferred transactions: readers never wait on a writer, and a
    read transaction left open would not hold everyone's write lock."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _expects_writes() else "BEGIN")


class BoundedIntConverter(IntegerConverter):
    """An id past the database's integer columns names nothing: a 404 for every method (a
    converter's ValidationError would let another method's rule on the same path answer 405)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)

    def to_python(self, value: str):
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


def _register_blueprints(app: Flask) -> None:
    for module_name, prefix in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp, url_prefix=None if prefix == "/" else prefix)
