"""RQ entry points (app/jobs): enqueue after commit, job_session's transaction."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from rq.job import Job

from app.accounts.models import User
from app.errors import NotFound
from app.extensions import db as _db
from app.extensions import get_redis
from app.jobs import enqueue, job_session

RAN: list = []


def record(value, *, extra=None):
    """A job: remember that it ran, and with what."""
    RAN.append((value, extra))


def create_user_job(email: str) -> None:
    with job_session():
        _db.session.add(User(email=email, display_name="From a job"))


@pytest.fixture(autouse=True)
def _clear_ran():
    RAN.clear()
    yield
    RAN.clear()


@pytest.fixture
def jobs_log(caplog):
    """caplog for app.jobs (Alembic's fileConfig disables loggers that exist at upgrade)."""
    logger = logging.getLogger("app.jobs")
    disabled, logger.disabled = logger.disabled, False
    with caplog.at_level(logging.WARNING, logger="app.jobs"):
        yield caplog
    logger.disabled = disabled


def _open_transaction(db):
    db.session.add(User(email="txn@example.com", display_name="Txn"))
    db.session.flush()


def _emails(db) -> set[str]:
    return set(db.session.scalars(sa.select(User.email)))


def test_enqueued_job_runs_only_after_commit(db):
    _open_transaction(db)
    enqueue(record, "hello", extra=1)
    assert RAN == []
    db.session.commit()
    assert RAN == [("hello", 1)]


def test_enqueued_job_never_runs_when_the_transaction_rolls_back(db):
    _open_transaction(db)
    enqueue(record, "hello")
    db.session.rollback()
    db.session.commit()
    assert RAN == []


def test_job_goes_to_the_named_queue_with_its_id(db):
    _open_transaction(db)
    enqueue(record, "hello", queue="low", job_id="test-job-record-1")
    db.session.commit()
    job = Job.fetch("test-job-record-1", connection=get_redis())
    try:
        assert job.origin == "low"
        assert job.get_status() == "finished"
    finally:
        job.delete()


def test_job_session_commits_what_the_job_did(db):
    _open_transaction(db)
    enqueue(create_user_job, "made-by-job@example.com")
    db.session.commit()
    assert "made-by-job@example.com" in _emails(db)


def test_job_session_swallows_a_domain_error_and_rolls_back(db, jobs_log):
    with job_session():
        _db.session.add(User(email="half-done@example.com", display_name="Half"))
        _db.session.flush()
        raise NotFound("No such payout.")
    assert "No such payout." in jobs_log.text
    assert "half-done@example.com" not in _emails(db)


def test_job_session_rolls_back_and_reraises_other_errors(db):
    with pytest.raises(RuntimeError, match="provider down"), job_session():
        _db.session.add(User(email="half-done@example.com", display_name="Half"))
        _db.session.flush()
        raise RuntimeError("provider down")
    assert "half-done@example.com" not in _emails(db)


def test_job_session_uses_its_own_session(db):
    outer = _db.session()
    with job_session():
        assert _db.session() is not outer
