"""RQ entry points (ARCHITECTURE §6).

Jobs are thin functions that take ids and call services inside `job_session()`. They are
enqueued through the kernel seam `app.tasks.enqueue` (re-exported here), only after the
transaction that asked for them commits; domain services name the job by its dotted path
instead of importing this package.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from flask import current_app, has_app_context
from rq import get_current_job

from app.errors import DomainError
from app.extensions import db
from app.logs import job_context
from app.tasks import enqueue

log = logging.getLogger(__name__)

__all__ = ["enqueue", "job_session"]


@contextmanager
def job_session() -> Iterator[None]:
    """App context + one transaction for a job: commit on success, roll back on error.
    Its log lines name the job and the request that enqueued it.

    Domain errors are logged and swallowed (retrying cannot fix them); anything else
    propagates so RQ records the failure and retries.
    """
    if not has_app_context():
        # worker.py runs its worker inside the app's context, which each forked work horse
        # inherits; the tests and inline jobs run inside one too.
        raise RuntimeError("A job runs inside an app context (worker.py pushes one).")
    app = current_app._get_current_object()
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
