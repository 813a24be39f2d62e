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
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # gevent patches the stdlib itself; psycopg2 needs psycogreen to yield while it waits.
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()
