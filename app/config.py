"""One configuration, read from the environment (and `.env`).

With nothing set, Lyceum runs on one laptop (the "embedded default", ARCHITECTURE §7):
a SQLite file under `instance/`, fakeredis in-process, RQ jobs run inline, the `local`
payment gateway and media on local disk. Setting `DATABASE_URL` / `REDIS_URL` switches to
the real services; nothing else changes.

`LYCEUM_ENV` says where we run (ARCHITECTURE §13): `development`, `test` or `production`
(also what a server database without `LYCEUM_ENV` means). The development conveniences
(a known secret key, a known webhook secret) are filled in only outside production, and
`settle_environment` refuses to start production on any missing or unsafe setting.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

load_dotenv(ROOT / ".env")


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


def normalise_database_url(url: str) -> str:
    """Heroku-style `postgres://` URLs name the dialect SQLAlchemy 2 calls `postgresql`.
    A URL without a driver gets psycopg2, the one we pin (and psycogreen patches):
    SQLAlchemy 2.1 would otherwise pick psycopg 3, which is not installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


ENVIRONMENTS = ("development", "test", "production")
# Known to everyone who reads this file: filled in outside production only.
DEV_SECRET_KEY = "dev-only-secret-change-me"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_local_development_only"
DEVELOPMENT_DEFAULTS = {"SECRET_KEY": DEV_SECRET_KEY, "STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET}
MIN_SECRET_KEY_LENGTH = 32


class Config:
    INSTANCE_PATH = str(INSTANCE)
    # development | test | production; unset: production on a server database (see environment_of).
    LYCEUM_ENV = env("LYCEUM_ENV")
    SECRET_KEY = env("SECRET_KEY")  # the development key outside production (settle_environment)

    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        env("DATABASE_URL", f"sqlite:///{INSTANCE / 'lyceum.db'}"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A read replica for the public catalog and search (app/discovery/replica.py); unset: the primary.
    DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")

    # Redis: unset means fakeredis in-process (pub/sub, limiter and queues share one server).
    REDIS_URL = env("REDIS_URL")
    # Live fan-out only (app/messaging/redis_pubsub.py): a Redis or a Redis Cluster (sharded
    # pub/sub); unset: REDIS_URL's. Queues, rate limits, presence and caches stay on REDIS_URL.
    REDIS_PUBSUB_URL = env("REDIS_PUBSUB_URL")
    # RQ jobs run inline when there is no real Redis, unless told otherwise.
    JOBS_INLINE = env_bool("JOBS_INLINE", REDIS_URL is None)
    RQ_QUEUES = ("high", "default", "low")
    RQ_QUEUE_PREFIX = env("RQ_QUEUE_PREFIX", "")  # lets two deployments share one Redis

    # Sessions and cookies (ARCHITECTURE §8). Secure cookies need HTTPS; the embedded
    # default serves plain http://127.0.0.1, so it is on by default only with a real database.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", env("DATABASE_URL") is not None)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # The remember cookie lives as long as a session may (the server ends it sooner if idle).
    REMEMBER_COOKIE_DURATION = env_int("SESSION_MAX_SECONDS", 30 * 24 * 3600)
    PREFERRED_URL_SCHEME = env("PREFERRED_URL_SCHEME", "http")
    SERVER_NAME = env("SERVER_NAME")

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    # The largest request of all (a video upload); upload views lower it per kind of file.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024 * 1024 + 1024 * 1024)
    # Every other request (forms, webhooks): refused with a 413 before its body is read
    # (app/blueprints/limits.py).
    REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024)

    # Rate limits (flask-limiter): Redis storage with a real Redis, memory otherwise.
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_KEY_PREFIX = env("RATELIMIT_KEY_PREFIX", "lyceum")
    # If Redis is briefly unreachable, limit in memory instead of failing the request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_SIGNUP = env("RATELIMIT_SIGNUP", "10 per hour")
    RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "10 per minute;50 per hour")
    RATELIMIT_PASSWORD_RESET = env("RATELIMIT_PASSWORD_RESET", "5 per hour")
    RATELIMIT_CHECKOUT = env("RATELIMIT_CHECKOUT", "20 per hour")
    # The JSON API, reads included: per token, and per address for calls without one.
    API_RATE_LIMIT = env("API_RATE_LIMIT", "600 per minute")
    API_ANONYMOUS_RATE_LIMIT = env("API_ANONYMOUS_RATE_LIMIT", "120 per minute")
    # Per account, whatever the address: after this many wrong passwords for one e-mail,
    # each further try waits BASE × 2^n seconds, at most MAX (app/accounts/throttle.py).
    LOGIN_THROTTLE_FREE_ATTEMPTS = env_int("LOGIN_THROTTLE_FREE_ATTEMPTS", 5)
    LOGIN_THROTTLE_BASE_SECONDS = env_int("LOGIN_THROTTLE_BASE_SECONDS", 60)
    LOGIN_THROTTLE_MAX_SECONDS = env_int("LOGIN_THROTTLE_MAX_SECONDS", 60 * 60)
    # Reverse proxies in front of the app (nginx, a load balancer) whose X-Forwarded-For
    # and X-Forwarded-Proto entries are believed; 0: none, the peer is the client.
    PROXY_TRUSTED_HOPS = env_int("PROXY_TRUSTED_HOPS", 0)
    # Chat and direct messages: per user, across rooms and conversations.
    MESSAGE_RATE_COUNT = env_int("MESSAGE_RATE_COUNT", 10)
    MESSAGE_RATE_SECONDS = env_int("MESSAGE_RATE_SECONDS", 10)

    # Real time (ARCHITECTURE §5): pub/sub channel names start with this prefix.
    CHANNEL_PREFIX = env("CHANNEL_PREFIX", "lyceum")
    SSE_HEARTBEAT_SECONDS = env_int("SSE_HEARTBEAT_SECONDS", 25)
    # The fast path (app/messaging/transport/): the bus's listener writes caught-up sockets'
    # and streams' events straight to the client's OS socket. Off: every write goes through
    # simple-websocket's `ws.send` and the Flask streaming response (slower, nothing below them).
    LIVE_FAST_PATH = env_bool("LIVE_FAST_PATH", True)
    # Open event streams and room sockets per user, on all processes; the oldest beyond it closes.
    LIVE_CONNECTIONS_PER_USER = env_int("LIVE_CONNECTIONS_PER_USER", 10)
    # Origins (scheme://host[:port], comma-separated) whose pages may open a room socket,
    # besides the site's own (the request's scheme and host).
    WS_ALLOWED_ORIGINS = tuple(o.strip().rstrip("/").lower()
                               for o in (env("WS_ALLOWED_ORIGINS") or "").split(",") if o.strip())
    PRESENCE_ANNOUNCE_SECONDS = 1.0  # joins and leaves in a room are announced at most this often
    # A chat frame larger than this closes the socket (1009); messages are ≤ 2,000 characters.
    SOCK_SERVER_OPTIONS = {"ping_interval": 25, "max_message_size": 16 * 1024}

    # Accounts.
    PASSWORD_MIN_LENGTH = 10
    # argon2id cost (RFC 9106 second recommended option); tests use a cheap profile.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    PASSWORD_RESET_MAX_AGE = env_int("PASSWORD_RESET_MAX_AGE", 60 * 60)
    # Server-side sessions (app/accounts/sessions.py): a session ends after this long without
    # a request (idle) or this long after signing in (lifetime), whichever comes first.
    # "Remember me" sessions may idle longer; anyone holding an admin permission gets the
    # shorter admin limits, remembered or not.
    SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 12 * 3600)
    REMEMBER_SESSION_IDLE_SECONDS = env_int("REMEMBER_SESSION_IDLE_SECONDS", 14 * 24 * 3600)
    SESSION_MAX_SECONDS = env_int("SESSION_MAX_SECONDS", 30 * 24 * 3600)
    ADMIN_SESSION_IDLE_SECONDS = env_int("ADMIN_SESSION_IDLE_SECONDS", 30 * 60)
    ADMIN_SESSION_MAX_SECONDS = env_int("ADMIN_SESSION_MAX_SECONDS", 12 * 3600)
    AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 2 * 1024 * 1024)

    # Mail: an SMTP server when MAIL_SERVER is set, else files under instance/mail/.
    MAIL_SERVER = env("MAIL_SERVER")
    MAIL_PORT = env_int("MAIL_PORT", 587)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "Lyceum <no-reply@lyceum.test>")
    MAIL_DIR = env("MAIL_DIR", str(INSTANCE / "mail"))

    # Media: local disk by default, an S3-compatible bucket with MEDIA_STORAGE=s3://bucket/prefix.
    MEDIA_STORAGE = env("MEDIA_STORAGE", str(INSTANCE / "media"))
    S3_ENDPOINT_URL = env("S3_ENDPOINT_URL")  # for S3-compatible stores other than AWS
    S3_REGION = env("S3_REGION")

    # Catalog caching: facet counts (Redis, a minute) and whole catalog pages for visitors
    # who are not signed in (Redis, 30 s; also `Cache-Control: public` for a CDN).
    FACET_CACHE_ENABLED = env_bool("FACET_CACHE_ENABLED", True)
    ANALYTICS_CACHE_SECONDS = env_int("ANALYTICS_CACHE_SECONDS", 60)
    PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 30)
    PAGE_CACHE_LOCAL_ENTRIES = env_int("PAGE_CACHE_LOCAL_ENTRIES", 256)  # per process, in memory

    # Courses: prices in minor units; 0 is free, otherwise at least the minimum.
    COURSE_MIN_PRICE_MINOR = env_int("COURSE_MIN_PRICE_MINOR", 199)
    COURSE_MAX_PRICE_MINOR = env_int("COURSE_MAX_PRICE_MINOR", 99999)
    DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "USD")
    DEFAULT_COMMISSION_BPS = env_int("DEFAULT_COMMISSION_BPS", 1500)
    # Upload limits per kind of file.
    VIDEO_MAX_BYTES = env_int("VIDEO_MAX_BYTES", 1024 * 1024 * 1024)
    PDF_MAX_BYTES = env_int("PDF_MAX_BYTES", 50 * 1024 * 1024)
    COVER_MAX_BYTES = env_int("COVER_MAX_BYTES", 5 * 1024 * 1024)
    # A video counts as watched (for the refund rule) once played past this many seconds.
    VIDEO_WATCHED_SECONDS = env_int("VIDEO_WATCHED_SECONDS", 30)

    # Payments (issue: money): `local` test gateway by default, `stripe` in production.
    PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", "local")
    STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
    STRIPE_API_BASE = env("STRIPE_API_BASE")  # e.g. stripe-mock in a staging environment
    STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")  # a development one outside production

    PAYPAL_CLIENT_ID = env("PAYPAL_CLIENT_ID")
    PAYPAL_SECRET = env("PAYPAL_SECRET")
    PAYPAL_API_BASE = env("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com")
    PAYPAL_WEBHOOK_ID = env("PAYPAL_WEBHOOK_ID")

    # Social log-in: each provider is offered only when its client id is set.
    GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID")
    GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET")
    GITHUB_CLIENT_ID = env("GITHUB_CLIENT_ID")
    GITHUB_CLIENT_SECRET = env("GITHUB_CLIENT_SECRET")

    LOG_LEVEL = env("LOG_LEVEL", "INFO")
    LOG_FORMAT = env("LOG_FORMAT")  # json | text; unset: json in production, text elsewhere
    # Error reports to Sentry (off when unset); the share of requests and jobs traced.
    SENTRY_DSN = env("SENTRY_DSN")
    SENTRY_TRACES_SAMPLE_RATE = float(env("SENTRY_TRACES_SAMPLE_RATE", "0"))

    # Prometheus `/metrics` (app/observability/metrics.py). Served to these addresses (CIDR,
    # comma-separated; the client's address, after PROXY_TRUSTED_HOPS) or to a request with
    # `Authorization: Bearer <METRICS_TOKEN>`; to anyone else it is a 404.
    METRICS_ALLOW = env("METRICS_ALLOW", "127.0.0.0/8,::1/128")
    METRICS_TOKEN = env("METRICS_TOKEN")
    # gunicorn's processes write their figures here (prometheus_client's multiprocess mode) and
    # a scrape sums them; gunicorn.conf.py empties it on start. Unset: one process's own figures.
    PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR")
    # Workers and the clock write a heartbeat this often; `/healthz` says "degraded" (still 200)
    # once none has been seen for HEARTBEAT_STALE_SECONDS (app/observability/heartbeats.py).
    HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 30)
    HEARTBEAT_STALE_SECONDS = env_int("HEARTBEAT_STALE_SECONDS", 120)


class TestConfig(Config):
    """The suite's configuration: same services, fresh database, fast hashing, no HTTPS."""

    TESTING = True
    LYCEUM_ENV = "test"
    WTF_CSRF_ENABLED = False  # the CSRF tests switch it back on (fixture `csrf_on`)
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    JOBS_INLINE = True
    REDIS_PUBSUB_URL = None  # the bus on REDIS_URL's server; the cluster tests set their own
    DATABASE_REPLICA_URL = None  # the replica tests set their own
    FACET_CACHE_ENABLED = False  # every test sees its own data at once
    ANALYTICS_CACHE_SECONDS = 0  # likewise; its own tests switch it on
    MESSAGE_RATE_COUNT = 0  # no flood limit; its tests switch it on
    PRESENCE_ANNOUNCE_SECONDS = 0.05
    PAGE_CACHE_SECONDS = 0
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    # Generous limits; the rate-limit tests lower them for themselves.
    RATELIMIT_SIGNUP = "1000 per minute"
    RATELIMIT_LOGIN = "1000 per minute"
    RATELIMIT_PASSWORD_RESET = "1000 per minute"
    RATELIMIT_CHECKOUT = "1000 per minute"
    API_RATE_LIMIT = "100000 per minute"
    API_ANONYMOUS_RATE_LIMIT = "100000 per minute"
    SERVER_NAME = None
    PREFERRED_URL_SCHEME = "http"
    GOOGLE_CLIENT_ID = "google-test-client"
    GOOGLE_CLIENT_SECRET = "google-test-secret"
    GITHUB_CLIENT_ID = "github-test-client"
    GITHUB_CLIENT_SECRET = "github-test-secret"
    SENTRY_DSN = None  # a developer's own DSN never receives the suite's errors
    METRICS_TOKEN = None  # the metrics tests set their own


# --- the environment and production's refusal to start ---------------------------------------

class UnsafeConfiguration(RuntimeError):
    """Production with a missing or development setting: the process must not start."""


def environment_of(config: Mapping) -> str:
    """`LYCEUM_ENV` when set; otherwise production on a server database, development on SQLite."""
    explicit = (config.get("LYCEUM_ENV") or "").strip().lower()
    if explicit:
        return explicit
    uri = config.get("SQLALCHEMY_DATABASE_URI") or "sqlite://"  # none: the embedded default's
    return "development" if uri.startswith("sqlite") else "production"


def production_problems(config: Mapping) -> list[str]:
    """Every setting that makes this configuration unsafe (or broken) for production, each
    named with what is wrong; empty when production may start. A pure function of `config`."""
    problems = []
    secret_key = config.get("SECRET_KEY") or ""
    if not secret_key:
        problems.append("SECRET_KEY is missing")
    elif secret_key == DEV_SECRET_KEY:
        problems.append("SECRET_KEY is the development key")
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is too short ({len(secret_key)} characters, at least "
                        f"{MIN_SECRET_KEY_LENGTH})")
    if (config.get("SQLALCHEMY_DATABASE_URI") or "sqlite").startswith("sqlite"):
        problems.append("DATABASE_URL is missing or SQLite (production needs PostgreSQL)")
    if not config.get("REDIS_URL"):
        problems.append("REDIS_URL is missing (an in-process Redis shares no rate limits, live "
                        "messages or jobs between processes)")
    elif config.get("JOBS_INLINE"):
        problems.append("JOBS_INLINE is on (jobs would run inside web requests, and no worker "
                        "or clock would run)")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is missing (e-mails, password-reset links included, "
                        "would be written to files instead of sent)")
    gateway = config.get("PAYMENT_GATEWAY") or "local"
    if gateway == "local":
        problems.append("PAYMENT_GATEWAY=local is the test checkout for development (use stripe)")
    elif gateway != "stripe":
        problems.append(f"PAYMENT_GATEWAY={gateway} is not a payment gateway (use stripe)")
    # /webhooks/stripe accepts whatever this secret signs, whichever gateway is selected.
    if not config.get("STRIPE_SECRET_KEY"):
        problems.append("STRIPE_SECRET_KEY is missing")
    webhook_secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not webhook_secret:
        problems.append("STRIPE_WEBHOOK_SECRET is missing")
    elif webhook_secret == DEV_STRIPE_WEBHOOK_SECRET:
        problems.append("STRIPE_WEBHOOK_SECRET is the development default")
    if config.get("PAYPAL_CLIENT_ID"):
        if not config.get("PAYPAL_SECRET"):
            problems.append("PAYPAL_SECRET is missing (PAYPAL_CLIENT_ID is set)")
        if not config.get("PAYPAL_WEBHOOK_ID"):
            problems.append("PAYPAL_WEBHOOK_ID is missing (PayPal payouts are configured)")
    return problems


def refusal(problems: list[str]) -> str:
    """The one line production prints instead of starting."""
    return f"Lyceum will not start in production: {'; '.join(problems)}. See README.md, Production."


def settle_environment(config: MutableMapping) -> str:
    """Resolve `LYCEUM_ENV` into `config`; in production refuse unsafe settings (raising
    UnsafeConfiguration), elsewhere fill in the development conveniences. Returns the environment."""
    name = environment_of(config)
    if name not in ENVIRONMENTS:
        raise UnsafeConfiguration(f"Lyceum will not start: LYCEUM_ENV={name} is not one of "
                                  f"{', '.join(ENVIRONMENTS)}.")
    config["LYCEUM_ENV"] = name
    if name == "production":
        problems = production_problems(config)
        if problems:
            raise UnsafeConfiguration(refusal(problems))
        return name
    for key, value in DEVELOPMENT_DEFAULTS.items():
        if not config.get(key):
            config[key] = value
    return name
