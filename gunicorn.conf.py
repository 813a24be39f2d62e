"""gunicorn settings for production (Procfile `web`)."""
import importlib.util
import multiprocessing
import os
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
timeout = 60
graceful_timeout = 30
keepalive = 5
control_socket_disable = True  # gunicorn 27: two servers on one machine must not collide
# Forwarded headers are believed in one place only, the app (PROXY_TRUSTED_HOPS, app/proxy.py):
# gunicorn trusts none (its own default would take X-Forwarded-Proto from 127.0.0.1).
forwarded_allow_ips = ""


def _load_logs():
    """app/logs.py on its own: importing the `app` package here, in the master, would import
    the whole app (its thread-locals, locks and ssl) before gevent patches the workers."""
    spec = importlib.util.spec_from_file_location("lyceum_logs", Path(__file__).with_name("app") / "logs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The master's and the workers' lines, access lines included, through app/logs.py's handler:
# JSON unless LOG_FORMAT or LYCEUM_ENV (production when unset: gunicorn is how it runs) say text.
_logs = _load_logs()
logconfig_dict = _logs.gunicorn_logconfig(
    _logs.resolve_format(os.environ.get("LOG_FORMAT"), os.environ.get("LYCEUM_ENV") or "production"))
access_log_format = _logs.GUNICORN_ACCESS_FORMAT


def post_fork(server, worker):
    # gevent patches the stdlib itself; psycopg2 needs psycogreen to yield while it waits.
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


def post_worker_init(worker):
    """On a graceful stop (SIGTERM, a deploy), gunicorn waits up to `graceful_timeout` for
    requests to finish, and chat sockets and event streams never do. So once the worker
    stops accepting, close the bus: every socket closes with 1012 ("service restart") and
    every stream ends; browsers show "Reconnecting…" and resume on another worker from the
    last id they saw."""
    import gevent

    def close_live_connections_when_stopping():
        while worker.alive:
            gevent.sleep(0.5)
        from app.messaging.bus import close_buses

        close_buses()

    gevent.spawn(close_live_connections_when_stopping)


# Prometheus multiprocess mode (app/observability/metrics.py): every worker writes its figures
# to files in PROMETHEUS_MULTIPROC_DIR and a scrape, on any worker, sums them. The folder holds
# one deployment's processes: emptied when the master starts (figures of a previous run would
# be summed in), and a dead worker's open-connection gauges are dropped (`livesum`).
_multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server):
    if _multiproc_dir:  # its files only: the folder may be a mount point
        folder = Path(_multiproc_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server, worker):
    if _multiproc_dir:
        from prometheus_client import multiprocess  # the standard library and mmap: no app

        multiprocess.mark_process_dead(worker.pid, _multiproc_dir)
