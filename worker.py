"""Start an RQ worker on Lyceum's queues (highest first), or with `--cron` the scheduler
that enqueues periodic jobs (app/jobs/schedule.py). The Procfile runs one of each.

Both beat every `HEARTBEAT_SECONDS` from their own main loop (app/observability/heartbeats.py),
which `/healthz` reads: a process that is alive but stuck stops beating."""
from __future__ import annotations

import sys
import time

from rq import Worker
from rq.cron import CronScheduler

from app.config import UnsafeConfiguration
from app.extensions import get_queue, get_redis
from app.factory import create_app
from app.jobs.schedule import PERIODIC
from app.logs import job_context
from app.observability.heartbeats import beat, heartbeat_key

# RQ's own margin between a worker's wait for a job and the expiry of its registration.
RQ_TTL_MARGIN = 15


class LoggingWorker(Worker):
    """RQ's worker whose lines about a job (RQ's own, a failure's traceback, Sentry's report)
    name the job and the request that enqueued it, as the job's own lines do (job_session),
    and whose heartbeat (between jobs: every time its wait for a job ends; during one: every
    job-monitoring interval) is also Lyceum's."""

    def __init__(self, *args, heartbeat_key: str | None = None, heartbeat_seconds: int = 30, **kwargs):
        if heartbeat_key:  # RQ waits for a job `worker_ttl - 15` seconds before it beats again
            kwargs.setdefault("worker_ttl", heartbeat_seconds + RQ_TTL_MARGIN)
            kwargs.setdefault("job_monitoring_interval", heartbeat_seconds)
        self.heartbeat_key = heartbeat_key
        super().__init__(*args, **kwargs)

    def perform_job(self, job, queue, *args, **kwargs):
        with job_context(job):
            return super().perform_job(job, queue, *args, **kwargs)

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if self.heartbeat_key:  # None in an instance RQ makes to describe another worker
            beat(pipeline if pipeline is not None else self.connection, self.heartbeat_key, now=time.time())


class Clock(CronScheduler):
    """RQ's cron scheduler, waking at least every `heartbeat_seconds` (RQ's own loop sleeps
    up to a minute), whose heartbeat (once per round of enqueuing) is also Lyceum's."""

    def __init__(self, *args, heartbeat_key: str | None = None, heartbeat_seconds: int = 60, **kwargs):
        self.heartbeat_key = heartbeat_key
        self.heartbeat_seconds = heartbeat_seconds
        super().__init__(*args, **kwargs)

    def heartbeat(self) -> None:
        super().heartbeat()
        if self.heartbeat_key:
            beat(self.connection, self.heartbeat_key, now=time.time())

    def calculate_sleep_interval(self) -> float:
        return min(super().calculate_sleep_interval(), self.heartbeat_seconds)


def main(argv: list[str]) -> None:
    try:
        app = create_app()
    except UnsafeConfiguration as exc:  # one line naming every unsafe setting, then exit 1
        sys.exit(str(exc))
    if app.config["JOBS_INLINE"]:
        sys.exit("JOBS_INLINE is on (no REDIS_URL): jobs run in the web process; no worker needed.")
    seconds = max(1, app.config["HEARTBEAT_SECONDS"])
    with app.app_context():
        if argv[:1] == ["--cron"]:
            prefix = app.config["RQ_QUEUE_PREFIX"]
            clock = Clock(connection=get_redis(), name=f"{prefix}lyceum-cron",
                          heartbeat_key=heartbeat_key("clock"), heartbeat_seconds=seconds)
            for func, queue, interval in PERIODIC:
                # The queue's full name (with RQ_QUEUE_PREFIX), the one the workers listen on.
                clock.register(func, get_queue(queue).name, interval=interval)
            clock.start()
            return
        names = argv or list(app.config["RQ_QUEUES"])
        worker = LoggingWorker([get_queue(n) for n in names], connection=get_redis(),
                               heartbeat_key=heartbeat_key("worker"), heartbeat_seconds=seconds)
        worker.work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
