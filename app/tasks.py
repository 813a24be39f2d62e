"""The one way into the job queues (ARCHITECTURE §6, §14): `enqueue` puts a job on an RQ
queue once the current transaction commits, so a worker never looks for a row that is not
there yet. On the embedded default the queues are synchronous: the job runs in-process right
after the commit, through the same code. The job carries the id of the request that enqueued
it, for its log lines (app/logs.py).

Domain services name their job by its dotted path (`"app.jobs.payments.execute_payout"`):
RQ imports it where it runs, so a domain never imports `app.jobs` (the adapters above it).
The job adapters themselves, and tests, may pass the function.
"""
from __future__ import annotations

from collections.abc import Callable

from app.events import on_commit
from app.extensions import get_queue
from app.logs import request_id


def enqueue(job: str | Callable, *args, queue: str = "default", job_id: str | None = None,
            retry=None, **kwargs) -> None:
    """Put `job(*args, **kwargs)` on `queue` once the current transaction commits. `job` is a
    dotted function path or the function. `retry` is an `rq.Retry` (back-off for jobs that
    talk to the outside world)."""
    options = {"job_id": job_id} if job_id else {}
    if retry is not None:
        options["retry"] = retry
    if enqueued_by := request_id.get():
        options["meta"] = {"request_id": enqueued_by}

    def put() -> None:
        get_queue(queue).enqueue(job, *args, **kwargs, **options)

    on_commit(put)
