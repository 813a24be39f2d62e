"""LYCEUM_ENV and production's refusal to start on a missing or development setting (issue 13,
item 1): the pure check in app/config.py, create_app, and the real entry points (wsgi.py for
gunicorn, worker.py for the worker and the clock) run as separate processes."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from app.config import (
    DEV_SECRET_KEY,
    DEV_STRIPE_WEBHOOK_SECRET,
    UnsafeConfiguration,
    environment_of,
    production_problems,
    settle_environment,
)
from app.factory import create_app

ROOT = Path(__file__).resolve().parent.parent

SAFE = {
    "LYCEUM_ENV": "production",
    "SECRET_KEY": secrets.token_hex(32),
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://lyceum@db.internal/lyceum",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "JOBS_INLINE": False,
    "MAIL_SERVER": "smtp.internal",
    "PAYMENT_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(12),
    "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
}

# Everything the embedded default leaves unset or at a development value.
UNSAFE_EVERYWHERE = {
    "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite:///instance/lyceum.db", "REDIS_URL": None,
    "JOBS_INLINE": True, "MAIL_SERVER": None, "PAYMENT_GATEWAY": "local", "STRIPE_SECRET_KEY": None,
    "STRIPE_WEBHOOK_SECRET": None, "PAYPAL_CLIENT_ID": None,
}
NAMED_WHEN_NOTHING_IS_SET = ("SECRET_KEY is missing", "DATABASE_URL", "REDIS_URL", "MAIL_SERVER",
                             "PAYMENT_GATEWAY=local", "STRIPE_SECRET_KEY is missing",
                             "STRIPE_WEBHOOK_SECRET is missing")


def test_a_safe_production_configuration_has_no_problems():
    assert production_problems(SAFE) == []
    assert production_problems({**SAFE, "SECRET_KEY": "k" * 32}) == []  # 32 characters is enough


@pytest.mark.parametrize(("change", "problem"), [
    ({"SECRET_KEY": None}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": ""}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY is the development key"),
    ({"SECRET_KEY": "k" * 31}, "SECRET_KEY is too short (31 characters, at least 32)"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/lyceum.db"}, "DATABASE_URL is missing or SQLite"),
    ({"REDIS_URL": None}, "REDIS_URL is missing"),
    ({"JOBS_INLINE": True}, "JOBS_INLINE is on"),
    ({"MAIL_SERVER": None}, "MAIL_SERVER is missing"),
    ({"PAYMENT_GATEWAY": "local"}, "PAYMENT_GATEWAY=local is the test checkout for development"),
    ({"PAYMENT_GATEWAY": "paypal"}, "PAYMENT_GATEWAY=paypal is not a payment gateway"),
    ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY is missing"),
    ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET is missing"),
    ({"STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET}, "STRIPE_WEBHOOK_SECRET is the development default"),
    ({"PAYPAL_CLIENT_ID": "paypal-live", "PAYPAL_SECRET": "s"}, "PAYPAL_WEBHOOK_ID is missing"),
    ({"PAYPAL_CLIENT_ID": "paypal-live", "PAYPAL_WEBHOOK_ID": "WH-1"}, "PAYPAL_SECRET is missing"),
])
def test_each_unsafe_setting_is_named(change, problem):
    [found] = production_problems({**SAFE, **change})
    assert found.startswith(problem)


def test_paypal_is_optional_and_fine_when_fully_configured():
    assert production_problems({**SAFE, "PAYPAL_CLIENT_ID": "paypal-live", "PAYPAL_SECRET": "s",
                                "PAYPAL_WEBHOOK_ID": "WH-1"}) == []


def test_every_problem_is_named_at_once_in_one_line():
    with pytest.raises(UnsafeConfiguration) as refused:
        settle_environment({"LYCEUM_ENV": "production", **UNSAFE_EVERYWHERE})
    message = str(refused.value)
    assert message.startswith("Lyceum will not start in production: SECRET_KEY is missing; ")
    assert "\n" not in message
    for name in NAMED_WHEN_NOTHING_IS_SET:
        assert name in message


@pytest.mark.parametrize("name", ["development", "test"])
def test_development_and_test_keep_their_conveniences(name):
    config = {"LYCEUM_ENV": name, **UNSAFE_EVERYWHERE}
    assert settle_environment(config) == name
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["STRIPE_WEBHOOK_SECRET"] == DEV_STRIPE_WEBHOOK_SECRET
    kept = {"LYCEUM_ENV": name, "SECRET_KEY": "mine", "STRIPE_WEBHOOK_SECRET": "whsec_mine"}
    settle_environment(kept)
    assert (kept["SECRET_KEY"], kept["STRIPE_WEBHOOK_SECRET"]) == ("mine", "whsec_mine")


def test_production_never_gets_the_development_secrets():
    config = {**SAFE, "SECRET_KEY": None, "STRIPE_WEBHOOK_SECRET": None}
    with pytest.raises(UnsafeConfiguration):
        settle_environment(config)
    assert config["SECRET_KEY"] is None and config["STRIPE_WEBHOOK_SECRET"] is None


@pytest.mark.parametrize(("config", "name"), [
    ({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://lyceum@db/lyceum"}, "production"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/x.db"}, "development"),
    ({}, "development"),
    ({"LYCEUM_ENV": "test", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://lyceum@db/lyceum"}, "test"),
    ({"LYCEUM_ENV": "development", "SQLALCHEMY_DATABASE_URI": "postgresql://lyceum@db/lyceum"}, "development"),
    ({"LYCEUM_ENV": " Production ", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "production"),
])
def test_the_environment_is_explicit_or_production_on_a_server_database(config, name):
    assert environment_of(config) == name


def test_an_unknown_environment_is_refused_not_taken_for_development():
    with pytest.raises(UnsafeConfiguration, match="LYCEUM_ENV=prod is not one of development, test, production"):
        settle_environment({"LYCEUM_ENV": "prod"})


def test_the_suite_runs_as_test(app):
    assert app.config["LYCEUM_ENV"] == "test"


def test_create_app_refuses_production_with_development_settings():
    with pytest.raises(UnsafeConfiguration, match="Lyceum will not start in production: SECRET_KEY is missing"):
        create_app({"LYCEUM_ENV": "production", **UNSAFE_EVERYWHERE})


def forge_admin_cookie(secret_key: str) -> str:
    """The issue's attack: `{"_user_id": "1:1"}` signed with a key anyone can read."""
    forger = Flask(__name__)
    forger.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps({"_user_id": "1:1"})


def session_seen_by(config: dict, cookie: str) -> dict:
    """The session a Flask app configured as create_app configures it (settle_environment)
    reads from `cookie`. A bare app: a second full app would rebind the suite's extensions."""
    app = Flask(__name__)
    app.config.update(config)
    settle_environment(app.config)
    with app.test_request_context(headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        return dict(app.session_interface.open_session(app, request))


def test_a_cookie_signed_with_the_development_key_opens_no_session_in_production():
    cookie = forge_admin_cookie(DEV_SECRET_KEY)
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is the development key"):
        create_app({**SAFE, "SECRET_KEY": DEV_SECRET_KEY})
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is missing"):
        create_app({**SAFE, "SECRET_KEY": None})  # no fallback to the development key either
    development = {**SAFE, "LYCEUM_ENV": "development", "SECRET_KEY": None}
    assert session_seen_by(development, cookie) == {"_user_id": "1:1"}  # the convenience, on a laptop
    assert session_seen_by(SAFE, cookie) == {}


# --- the real entry points, as processes ------------------------------------------------------

SETTINGS = ("LYCEUM_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "JOBS_INLINE", "MAIL_SERVER",
            "PAYMENT_GATEWAY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PAYPAL_CLIENT_ID",
            "PAYPAL_SECRET", "PAYPAL_WEBHOOK_ID")


def run(args: list[str], **settings: str) -> subprocess.CompletedProcess:
    """Run Python in the project root with only `settings` set among ours (an empty value counts
    as unset, and keeps a `.env` file from filling it in)."""
    env = {**os.environ, **dict.fromkeys(SETTINGS, ""), **settings}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def last_line(stream: str) -> str:
    return stream.strip().splitlines()[-1]


def test_the_web_process_refuses_to_start_naming_every_missing_setting():
    web = run(["-c", "import wsgi"], LYCEUM_ENV="production")
    assert web.returncode != 0
    message = last_line(web.stderr)
    assert "Lyceum will not start in production: SECRET_KEY is missing; " in message
    for name in NAMED_WHEN_NOTHING_IS_SET:
        assert name in message


@pytest.mark.parametrize("args", [["worker.py"], ["worker.py", "--cron"]], ids=["worker", "clock"])
def test_the_worker_and_the_clock_refuse_to_start_with_one_line(args):
    process = run(args, LYCEUM_ENV="production")
    assert process.returncode == 1
    [message] = process.stderr.strip().splitlines()
    assert message.startswith("Lyceum will not start in production: SECRET_KEY is missing; ")
    for name in NAMED_WHEN_NOTHING_IS_SET:
        assert name in message


def test_a_server_database_without_lyceum_env_means_production():
    web = run(["-c", "import wsgi"], DATABASE_URL="postgresql://lyceum@127.0.0.1:9/lyceum")
    assert web.returncode != 0
    message = last_line(web.stderr)
    assert "Lyceum will not start in production: SECRET_KEY is missing; " in message
    assert "DATABASE_URL" not in message


def test_a_safe_production_configuration_starts():
    web = run(["-c", "import wsgi; print(wsgi.app.config['LYCEUM_ENV'])"], LYCEUM_ENV="production",
              SECRET_KEY=SAFE["SECRET_KEY"], DATABASE_URL="postgresql://lyceum@127.0.0.1:9/lyceum",
              REDIS_URL="redis://127.0.0.1:9/0", MAIL_SERVER="smtp.internal", PAYMENT_GATEWAY="stripe",
              STRIPE_SECRET_KEY=SAFE["STRIPE_SECRET_KEY"], STRIPE_WEBHOOK_SECRET=SAFE["STRIPE_WEBHOOK_SECRET"])
    assert (web.returncode, web.stdout.strip()) == (0, "production"), web.stderr[-2000:]


def test_every_procfile_process_runs_as_production():
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"web", "worker", "clock", "release"}
    for command in processes.values():
        assert command.strip().startswith("env LYCEUM_ENV=production ")
