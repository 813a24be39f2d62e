"""Start an RQ worker on Lyceum's queues (highest first), or with `--cron` the scheduler
that enqueues periodic jobs (app/jobs/schedule.py). The Procfile runs one of each."""
from __future__ import annotations

import sys

from rq import Worker
from rq.cron import CronScheduler

from app import create_app
from app.config import UnsafeConfiguration
from app.extensions import get_queue, get_redis
from app.logs import job_context


class LoggingWorker(Worker):
    """RQ's worker whose lines about a job (RQ's own, a failure's traceback, Sentry's report)
    name the job and the request that enqueued it, as the job's own lines do (job_session)."""

    def perform_job(self, job, queue, *args, **kwargs):
        with job_context(job):
            return super().perform_job(job, queue, *args, **kwargs)


def main(argv: list[str]) -> None:
    try:
        app = create_app()
    except UnsafeConfiguration as exc:  # one line naming every unsafe setting, then exit 1
        sys.exit(str(exc))
    if app.config["JOBS_INLINE"]:
        sys.exit("JOBS_INLINE is on (no REDIS_URL): jobs run in the web process; no worker needed.")
    with app.app_context():
        if argv[:1] == ["--cron"]:
            from app.jobs.schedule import PERIODIC

            scheduler = CronScheduler(connection=get_redis(), name="lyceum-cron")
            for func, queue, interval in PERIODIC:
                # The queue's full name (RQ_QUEUE_PREFIX included), the one the workers listen on.
                scheduler.register(func, get_queue(queue).name, interval=interval)
            scheduler.start()
            return
        names = argv or list(app.config["RQ_QUEUES"])
        worker = LoggingWorker([get_queue(n) for n in names], connection=get_redis())
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
