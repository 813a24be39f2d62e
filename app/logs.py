"""Logs operators can follow (ARCHITECTURE §13): one line per record, JSON in production and
readable text elsewhere (`LOG_FORMAT`), each carrying the id of the request it belongs to, and
in a job the job's id and function. Also the optional error reports (`SENTRY_DSN`).

A request's id comes from a well-formed `X-Request-ID` (nginx sends its `$request_id`) or is
made here; it is returned as `X-Request-ID` and kept in a context variable, which is per thread
and per greenlet, for `ContextFilter` to put on every record. `app.tasks.enqueue` carries it into
the job's meta; `job_session` sets it again while the job runs (inline or on a worker), and so
does worker.py's worker around RQ's own handling of the job.

This module imports only the standard library and orjson: gunicorn's master loads the file on
its own (gunicorn.conf.py), so that its lines go through the same formatter without importing
the app before gevent patches the workers.
"""
from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

HEADER = "X-Request-ID"
# nginx's $request_id is 32 hex characters; anything else a client sends is replaced, so a
# log line never carries an attacker's text (or a newline) as its id.
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
HANDLER_NAME = "lyceum"  # the root handler of ours, replaced (not stacked) by a new setup
FORMATS = ("json", "text")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# (job id, job function) while a job runs.
current_job: ContextVar[tuple[str, str] | None] = ContextVar("current_job", default=None)


def accepted_request_id(incoming: str | None) -> str:
    """The incoming id when it is well-formed, else a new one."""
    if incoming and WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIds:
    """WSGI middleware: every request gets an id (in the context for its log lines, in the
    environ for the app) and every response carries it, errors, redirects and streams alike.
    The id stays in the context for the rest of the request's thread or greenlet (a stream's
    body, the server's access line); the next request there sets its own."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable):
        rid = accepted_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = rid
        request_id.set(rid)

        def start_with_id(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((HEADER, rid))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_id)


@contextmanager
def job_context(job) -> Iterator[None]:
    """While an RQ job runs, log lines (and Sentry's reports) name it and the request that
    enqueued it (`app.tasks.enqueue` keeps that request's id in the job's meta)."""
    job_token = current_job.set((job.id, job.func_name))
    request_token = request_id.set(job.meta.get("request_id"))
    try:
        yield
    finally:
        request_id.reset(request_token)
        current_job.reset(job_token)


class ContextFilter(logging.Filter):
    """Puts the request id and the job (when there are) on every record the handler sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        job = current_job.get()
        record.job_id, record.job_func = job if job else (None, None)
        return True


def _access_fields(record: logging.LogRecord) -> dict:
    """gunicorn's access line as fields: its atoms are the record's args."""
    atoms = record.args
    if record.name != "gunicorn.access" or not isinstance(atoms, Mapping):
        return {}
    fields = {"method": atoms["m"], "path": atoms["U"], "status": int(atoms["s"]),
              "duration_ms": round(atoms["D"] / 1000, 3), "bytes": atoms["B"]}
    response_id = atoms["{x-request-id}o"]
    if response_id != "-":
        fields["request_id"] = response_id
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id,
    job_id and job_func when there are, the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id", "job_func"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        entry.update(_access_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request job]: message` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"req={record.request_id}"] if getattr(record, "request_id", None) else []
        if getattr(record, "job_id", None):
            parts.append(f"job={record.job_id} {record.job_func}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record comes (pytest swaps it per test)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def resolve_format(log_format: str | None, environment: str | None) -> str:
    """`LOG_FORMAT` when set, else JSON in production and text elsewhere."""
    chosen = (log_format or ("json" if environment == "production" else "text")).lower()
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format} is not one of {', '.join(FORMATS)}")
    return chosen


def log_handler(log_format: str, stream=None) -> logging.Handler:
    """The handler every process logs through (stderr unless given a stream)."""
    handler = StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(log_format: str, level: str | int) -> None:
    """Send every logger's records through `log_handler` on the root logger, replacing the one
    a previous setup (or gunicorn's master) installed; other handlers (pytest's) stay."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.name == HANDLER_NAME]:
        root.removeHandler(handler)
    root.addHandler(log_handler(log_format))
    root.setLevel(level)


def gunicorn_logconfig(log_format: str) -> dict:
    """gunicorn's `logconfig_dict`: its error and access loggers go to the root logger, which
    logs through `log_handler` (in each web worker, `create_app` installs the app's own)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": [HANDLER_NAME]},
        "loggers": {name: {"handlers": [], "propagate": True}
                    for name in ("gunicorn.error", "gunicorn.access")},
        "handlers": {HANDLER_NAME: {"()": log_handler, "log_format": log_format}},
    }


# gunicorn's access line (the request id is the context's, in its greenlet); in JSON its atoms
# also become fields (`_access_fields`), the id taken from the response's header.
GUNICORN_ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(B)s bytes %(M)sms"


def init_error_reports(config: Mapping) -> None:
    """Send unhandled errors of requests and jobs to Sentry when `SENTRY_DSN` is set, tagged
    with the request id; without it Sentry's SDK is not even imported."""
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    traces = config.get("SENTRY_TRACES_SAMPLE_RATE") or None  # None, not 0: no tracing at all
    sentry_sdk.init(dsn=dsn, environment=config.get("LYCEUM_ENV"), send_default_pii=False,
                    traces_sample_rate=traces, integrations=[FlaskIntegration(), RqIntegration()],
                    before_send=_tag_request_id)


def _tag_request_id(event: dict, hint: dict) -> dict:
    rid = request_id.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return event
