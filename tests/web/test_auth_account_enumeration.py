"""Sign-up and password reset answer the same, after the same work, whether or not the
address has an account (issue #13, item 12): what differs happens in a job, and the mail
tells the owner. Work is compared as SQL statements and enqueued jobs, not wall-clock."""
from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from rq import Queue
from sqlalchemy import event

from app.extensions import db as _db
from app.extensions import get_redis

JOBS = "app.jobs.accounts"


@pytest.fixture
def held_jobs(app):
    """The app's queues made asynchronous, as in production: a request's jobs wait in Redis
    (instead of running inline) so the test sees what was enqueued, and runs them itself."""
    saved = app.extensions["rq_queues"]
    prefix = f"held-{uuid.uuid4().hex[:8]}-"
    queues = {name: Queue(f"{prefix}{name}", connection=get_redis(), is_async=True) for name in saved}
    app.extensions["rq_queues"] = queues

    taken: list = []

    def take() -> list:
        """The jobs enqueued since the last call, taken off their queues."""
        jobs = [job for queue in queues.values() for job in queue.jobs]
        for queue in queues.values():
            get_redis().delete(queue.key)
        taken.extend(jobs)
        return jobs

    yield take
    app.extensions["rq_queues"] = saved
    take()
    for job in taken:
        job.delete()


@contextmanager
def counting_sql():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)


def measured(client, held_jobs, url: str, data: dict):
    with counting_sql() as statements:
        resp = client.post(url, data=data)
    return resp, len(statements), held_jobs()


def signup(email: str) -> dict:
    return {"display_name": "Nora", "email": email, "password": "plenty of entropy here"}


def test_signup_with_a_taken_address_does_the_same_work_as_a_new_one(client, make_user, held_jobs,
                                                                     outbox):
    make_user(email="nora@example.test", display_name="Nora Owner")
    taken, taken_sql, taken_jobs = measured(client, held_jobs, "/auth/signup", signup("nora@example.test"))
    fresh, fresh_sql, fresh_jobs = measured(client, held_jobs, "/auth/signup", signup("nina@example.test"))

    assert taken.status_code == fresh.status_code == 200
    assert taken.get_data(as_text=True).replace("nora@", "nina@") == fresh.get_data(as_text=True)
    assert taken_sql == fresh_sql
    assert [j.func_name for j in taken_jobs] == [j.func_name for j in fresh_jobs] == [f"{JOBS}.finish_sign_up"]
    for job in (taken_jobs[0], fresh_jobs[0]):  # the password was hashed either way
        assert job.args[0]["password_hash"].startswith("$argon2id$")
    assert len(outbox) == 0  # nothing sent yet: the jobs have not run

    taken_jobs[0].perform()
    fresh_jobs[0].perform()
    for delivery in held_jobs():  # the mails they queued
        delivery.perform()
    subjects = {m["To"]: m["Subject"] for m in outbox.messages()}
    assert subjects == {"nora@example.test": "Someone tried to sign up with your e-mail address",
                        "nina@example.test": "Finish signing up to Lyceum"}


def test_password_reset_does_the_same_work_for_a_real_and_an_unknown_account(client, learner, held_jobs,
                                                                           outbox):
    real, real_sql, real_jobs = measured(client, held_jobs, "/auth/password/forgot",
                                         {"email": " Learner@Example.test"})
    unknown, unknown_sql, unknown_jobs = measured(client, held_jobs, "/auth/password/forgot",
                                                  {"email": "nobody@example.test"})

    assert (real.status_code, real.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert real.data == unknown.data
    assert real_sql == unknown_sql
    assert [(j.func_name, j.args[0]) for j in real_jobs + unknown_jobs] == [
        (f"{JOBS}.send_password_reset", "learner@example.test"),
        (f"{JOBS}.send_password_reset", "nobody@example.test")]

    for job in real_jobs + unknown_jobs:
        job.perform()
    for delivery in held_jobs():  # the mail it queued
        delivery.perform()
    assert [(m["To"], m["Subject"]) for m in outbox.messages()] == [
        ("learner@example.test", "Reset your Lyceum password")]
