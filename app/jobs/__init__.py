"""RQ entry points (ARCHITECTURE §6).

Jobs are thin functions that take ids and call services inside `job_session()`. They are
enqueued only after the transaction that asked for them commits (`enqueue`), so a worker
never looks for a row that is not there yet. On the embedded default the queues are
synchronous: the job runs in-process right after the commit, through the same code.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import has_app_context

from app.errors import DomainError
from app.events import on_commit
from app.extensions import db, get_queue

log = logging.getLogger(__name__)


def enqueue(func: Callable, *args, queue: str = "default", job_id: str | None = None,
            retry=None, **kwargs) -> None:
    """Put `func(*args, **kwargs)` on `queue` once the current transaction commits.
    `retry` is an `rq.Retry` (back-off for jobs that talk to the outside world)."""
    options = {"job_id": job_id} if job_id else {}
    if retry is not None:
        options["retry"] = retry

    def put() -> None:
        get_queue(queue).enqueue(func, *args, **kwargs, **options)

    on_commit(put)


@contextmanager
def job_session() -> Iterator[None]:
    """App context + one transaction for a job: commit on success, roll back on error.

    Domain errors are logged and swallowed (retrying cannot fix them); anything else
    propagates so RQ records the failure and retries.
    """
    from flask import current_app

    if has_app_context():
        app = current_app._get_current_object()
    else:
        from app import create_app

        app = create_app()
    with app.app_context():
        try:
            yield
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            log.warning("job stopped by a domain rule: %s", exc)
        except BaseException:
            db.session.rollback()
            raise
