"""gunicorn settings for production (Procfile `web`)."""
import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
control_socket_disable = True  # gunicorn 27: two servers on one machine must not collide
# Forwarded headers are believed in one place only, the app (PROXY_TRUSTED_HOPS, app/proxy.py):
# gunicorn trusts none (its own default would take X-Forwarded-Proto from 127.0.0.1).
forwarded_allow_ips = ""


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
