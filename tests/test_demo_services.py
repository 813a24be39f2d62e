"""`flask demo-data` with its jobs going to queues (JOBS_INLINE off) instead of running inline:
with no worker running, so nobody would run them (on both passes: SQLite + fakeredis, then
PostgreSQL + Redis), and on PostgreSQL + Redis with a real RQ worker process running. The demo
must finish the same either way, the second run must change nothing, and a run that stopped
half-way (at a step's end, or killed at any moment) must be finished by the next one.

Each test runs on its own committed database: the command and the worker are other processes.
"""
from __future__ import annotations

import uuid

import pytest
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from app.accounts.queries import user_by_email
from app.commerce.ledger import check_invariants
from app.demo import (
    DEMO_COURSES,
    DEMO_STEPS,
    buy_once,
    course_titled,
    demo_purchases,
)
from app.extensions import db as _db
from app.extensions import get_queue, get_redis, jobs_run_in_this_process
from tests.support.apps import build_app
from tests.support.demo import COMPLETE_DEMO, demo_counts
from tests.support.processes import (
    flask_command,
    kill_hard,
    process_env,
    start_flask_command,
    start_worker,
    stop,
    wait_for,
)

# These tests commit for real: other processes read what they write.
pytestmark = pytest.mark.committed


@pytest.fixture
def server_app():
    """An app whose jobs go to Redis queues of its own (a worker, if any, runs them)."""
    queue_prefix = f"demo-{uuid.uuid4().hex[:8]}-"
    app, teardown = build_app(JOBS_INLINE=False, RQ_QUEUE_PREFIX=queue_prefix)
    yield app
    with app.app_context():
        redis = get_redis()
        for key in redis.scan_iter(f"*{queue_prefix}*"):
            redis.delete(key)
    teardown()


def counts(app) -> dict[str, int]:
    with app.app_context():
        try:
            return demo_counts(_db.session)
        finally:
            _db.session.remove()


def demo_data(app, env) -> str:
    result = flask_command(env, "demo-data")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def jobs_waiting(app) -> int:
    with app.app_context():
        return sum(get_queue(name).count for name in app.config["RQ_QUEUES"])


def demo_data_here(app) -> str:
    """The command in this process, so its queues are this test's (fakeredis included)."""
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return result.output


def test_without_a_worker_the_demo_finishes_and_a_second_run_changes_nothing(server_app):
    assert "Demo data ready (3 new accounts)." in demo_data_here(server_app)
    first = counts(server_app)
    assert first == COMPLETE_DEMO
    assert jobs_waiting(server_app) == 0  # the demo left nothing for a worker to do

    assert "Demo data ready (0 new accounts)." in demo_data_here(server_app)
    assert counts(server_app) == first


def leave_a_payment_waiting(app) -> None:
    """The state a run killed between a purchase's commit and its webhook job leaves: the
    order pending, its event stored, the job in a queue that nobody has run yet."""
    with app.test_request_context():
        with jobs_run_in_this_process(app):
            for step in DEMO_STEPS[:DEMO_STEPS.index(demo_purchases)]:
                step()
                _db.session.commit()
        with pytest.raises(RuntimeError, match="was not applied"):
            buy_once(user_by_email("learner@example.com"), course_titled(DEMO_COURSES[1][0]))
        _db.session.remove()
    assert jobs_waiting(app) == 1


def jobs_unfinished(app) -> int:
    with app.app_context():
        return sum(get_queue(name).count + StartedJobRegistry(queue=get_queue(name)).count
                   for name in app.config["RQ_QUEUES"])


@pytest.mark.parametrize("worker", [
    False, pytest.param(True, marks=pytest.mark.real_services),
], ids=["no-worker", "worker-running"])
def test_a_payment_a_killed_run_left_waiting_is_applied_once_by_the_next(server_app, worker):
    """With a worker running, the worker and the demo race for the waiting event: whoever
    applies it, it is applied once and the order is sold once."""
    leave_a_payment_waiting(server_app)
    workers = [start_worker(process_env(server_app))] if worker else []
    try:
        if workers:
            with server_app.app_context():
                queue = get_queue("high")
                wait_for(lambda: Worker.all(queue=queue), "the worker to listen on our queues")
        demo_data_here(server_app)
        if workers:
            wait_for(lambda: jobs_unfinished(server_app) == 0, "the worker to finish its job")
        assert counts(server_app) == COMPLETE_DEMO  # 8 events in all, each applied; 7 sales
        with server_app.app_context():
            assert check_invariants() == []
            assert [FailedJobRegistry(queue=get_queue(n)).count for n in server_app.config["RQ_QUEUES"]] == [0, 0, 0]
    finally:
        for process in workers:
            stop(process)


@pytest.mark.real_services
def test_with_a_worker_running_the_demo_finishes_and_a_second_run_changes_nothing(server_app):
    env = process_env(server_app)
    worker = start_worker(env)
    try:
        with server_app.app_context():
            queue = get_queue("high")
            wait_for(lambda: Worker.all(queue=queue), "the worker to listen on our queues")
        demo_data(server_app, env)
        first = counts(server_app)
        assert first == COMPLETE_DEMO
        demo_data(server_app, env)
        assert counts(server_app) == first
        assert worker.poll() is None  # it was there all along
        with server_app.app_context():
            assert [FailedJobRegistry(queue=get_queue(n)).count for n in server_app.config["RQ_QUEUES"]] == [0, 0, 0]
    finally:
        stop(worker)


@pytest.mark.real_services
def test_a_run_killed_in_the_middle_of_the_purchases_is_finished_by_the_next(server_app):
    env = process_env(server_app)
    run = start_flask_command(env, "demo-data")
    try:
        wait_for(lambda: run.poll() is not None or counts(server_app)["purchase_order"] >= 3,
                 "the demo to make its third order", timeout=120)
        assert run.poll() is None, run.stdout.read()
    finally:
        kill_hard(run)
        run.stdout.close()
    assert counts(server_app)["chat_message"] == 0  # it stopped half-way
    demo_data(server_app, env)
    first = counts(server_app)
    assert first == COMPLETE_DEMO
    with server_app.app_context():
        assert check_invariants() == []
    demo_data(server_app, env)
    assert counts(server_app) == first
