"""RQ entry points (ARCHITECTURE §6).

Jobs are thin functions that take ids and call services inside `job_session()`. They are
enqueued only after the transaction that asked for them commits (`enqueue`), so a worker
never looks for a row that is not there yet. On the embedded default the queues are
synchronous: the job runs in-process right after the commit, through the same code.
A job carries the id of the request that enqueued it, for its log lines (app/logs.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from flask import has_app_context
from rq import get_current_job

from app.errors import DomainError
from app.events import on_commit
from app.extensions import db, get_queue
from app.logs import job_context, request_id

log = logging.getLogger(__name__)


def enqueue(func: Callable, *args, queue: str = "default", job_id: str | None = None,
            retry=None, **kwargs) -> None:
    """Put `func(*args, **kwargs)` on `queue` once the current transaction commits.
    `retry` is an `rq.Retry` (back-off for jobs that talk to the outside world)."""
    options = {"job_id": job_id} if job_id else {}
    if retry is not None:
        options["retry"] = retry
    if enqueued_by := request_id.get():
        options["meta"] = {"request_id": enqueued_by}

    def put() -> None:
        get_queue(queue).enqueue(func, *args, **kwargs, **options)

    on_commit(put)


@contextmanager
def job_session() -> Iterator[None]:
    """App context + one transaction for a job: commit on success, roll back on error.
    Its log lines name the job and the request that enqueued it.

    Domain errors are logged and swallowed (retrying cannot fix them); anything else
    propagates so RQ records the failure and retries.
    """
    from flask import current_app

    if has_app_context():
        app = current_app._get_current_object()
    else:
        from app import create_app

        app = create_app()
    job = get_current_job()
    with app.app_context(), (job_context(job) if job else nullcontext()):
        try:
            yield
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            log.warning("job stopped by a domain rule: %s", exc)
        except BaseException:
            db.session.rollback()
            raise
