"""Start an RQ worker (with the built-in scheduler) on Lyceum's queues, highest first."""
from __future__ import annotations

import sys

from rq import Worker

from app import create_app
from app.extensions import get_queue, get_redis


def main(argv: list[str]) -> None:
    app = create_app()
    if app.config["JOBS_INLINE"]:
        sys.exit("JOBS_INLINE is on (no REDIS_URL): jobs run in the web process; no worker needed.")
    with app.app_context():
        names = argv or list(app.config["RQ_QUEUES"])
        worker = Worker([get_queue(n) for n in names], connection=get_redis())
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
