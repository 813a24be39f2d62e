"""A worker killed (SIGKILL) in the middle of a payout, then restarted, pays exactly once.

Real PostgreSQL, real Redis, real RQ worker processes; only Stripe is faked, as an HTTP
server that keeps transfers by idempotency key the way Stripe does.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.commerce import ledger, payouts
from app.commerce.models import LedgerTransaction, Payout, PayoutAccount
from app.extensions import db as _db
from app.extensions import get_redis
from tests.support.apps import build_app
from tests.support.processes import descendants

ROOT = Path(__file__).resolve().parents[2]
# This test runs on its own committed database (workers are other processes).
pytestmark = [pytest.mark.real_services, pytest.mark.committed]


class FakeStripe(ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeStripeHandler)
        self.transfers: dict[str, dict] = {}   # idempotency key -> transfer
        self.requests: list[str] = []          # idempotency keys, in arrival order
        self.hold_first = threading.Event()    # set: the first call hangs (the worker dies)
        self.first_seen = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeStripeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_POST(self):
        server: FakeStripe = self.server
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        key = self.headers.get("Idempotency-Key", "")
        server.requests.append(key)
        if key not in server.transfers:
            server.transfers[key] = {"id": f"tr_{uuid.uuid4().hex[:12]}", "object": "transfer",
                                     "amount": 3000, "currency": "usd"}
            if server.hold_first.is_set():
                server.first_seen.set()
                time.sleep(30)  # the transfer exists at "Stripe"; the caller is killed meanwhile
        body = json.dumps(server.transfers[key]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "high"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started, at once."""
    for pid in [*descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_a_worker_killed_mid_payout_pays_exactly_once_after_restart():
    stripe_server = FakeStripe()
    threading.Thread(target=stripe_server.serve_forever, daemon=True).start()
    prefix = f"crash-{uuid.uuid4().hex[:8]}-"
    settings = {"JOBS_INLINE": False, "PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_crash",
                "STRIPE_API_BASE": stripe_server.url, "RQ_QUEUE_PREFIX": prefix}
    app, teardown = build_app(**settings)
    workers = []
    try:
        from tests.factories import make_user

        with app.app_context():
            creator = make_user()
            _db.session.add(PayoutAccount(user_id=creator.id, provider="stripe",
                                          external_id="acct_crash", status="active"))
            ledger.post("test-sale:crash", "sale", [
                (ledger.gateway_account("stripe"), 5000), (ledger.COMMISSION, -750),
                (ledger.creator_account(creator.id, "available"), -4250)], currency="USD")
            _db.session.commit()
            stripe_server.hold_first.set()
            payout_id = payouts.request_payout(creator, 3000).id
            _db.session.commit()  # enqueues the job on the real Redis queue
            creator_id = creator.id

        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "JOBS_INLINE": "false", "PAYMENT_GATEWAY": "stripe",
               "STRIPE_SECRET_KEY": "sk_test_crash", "STRIPE_API_BASE": stripe_server.url,
               "RQ_QUEUE_PREFIX": prefix, "SESSION_COOKIE_SECURE": "false",
               "LYCEUM_ENV": "test"}  # a server DATABASE_URL alone would mean production
        workers.append(start_worker(env))
        assert stripe_server.first_seen.wait(60), "the worker never called Stripe"
        kill_hard(workers[-1])  # the worker and its work horse, in the middle of the call

        with app.app_context():
            payout = _db.session.get(Payout, payout_id)
            assert payout.status == "processing"  # money in flight, nothing settled
            assert ledger.find_transaction(f"payout-settled:{payout_id}") is None
            stripe_server.hold_first.clear()
            assert payouts.resume_stuck_payouts(older_than_seconds=0) == 1
            _db.session.commit()

        workers.append(start_worker(env))

        def settled() -> bool:
            with app.app_context():
                return _db.session.get(Payout, payout_id).status == "paid"

        wait_for(settled)
        with app.app_context():
            assert len(stripe_server.transfers) == 1  # one transfer at the provider
            assert stripe_server.requests == [f"payout-{payout_id}"] * 2  # the retry replayed it
            settled_rows = _db.session.query(LedgerTransaction).filter(
                LedgerTransaction.idempotency_key == f"payout-settled:{payout_id}").count()
            assert settled_rows == 1
            assert ledger.check_invariants() == []
            assert ledger.creator_balances(creator_id)["available"] == 1250
            redis = get_redis()
            for key in redis.scan_iter(f"*{prefix}*"):
                redis.delete(key)
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill_hard(worker)
        stripe_server.shutdown()
        teardown()
