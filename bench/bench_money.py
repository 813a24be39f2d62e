"""Money benchmark on PostgreSQL + Redis (issue 6):
1. ledger postings per second (a 3-leg sale transaction each, committed one by one);
2. webhook received → enrollment visible, with one gunicorn web process and ONE RQ worker:
   a signed `checkout.session.completed` is POSTed to /webhooks/stripe and the clock stops
   when the enrollment row is visible to another connection.

    DATABASE_URL=postgresql://…/lyceum_bench_money REDIS_URL=redis://127.0.0.1:6379/4 \
        python bench/bench_money.py
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks use the local gateway and throwaway data: run as development (a server
# DATABASE_URL alone would mean production, which refuses development settings).
os.environ.setdefault("LYCEUM_ENV", "development")
sys.path.insert(0, str(ROOT))
PORT = 8766


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    os.environ.setdefault("RQ_QUEUE_PREFIX", f"bench-{uuid.uuid4().hex[:6]}-")
    os.environ["JOBS_INLINE"] = "false"
    from flask_migrate import upgrade

    from app.commerce import ledger
    from app.commerce.gateways.signing import sign
    from app.commerce.orders import start_checkout
    from app.extensions import db
    from app.factory import create_app
    from app.learning.models import Enrollment
    from tests.factories import make_course, make_user

    app = create_app()
    events = int(os.environ.get("BENCH_EVENTS", "200"))
    postings = int(os.environ.get("BENCH_POSTINGS", "2000"))
    with app.app_context(), app.test_request_context(base_url=f"http://127.0.0.1:{PORT}"):
        upgrade()
        # 1. ledger postings/s
        started = time.perf_counter()
        for _ in range(postings):
            ledger.post(f"bench-sale:{uuid.uuid4().hex}", "sale", [
                (ledger.gateway_account("stripe"), 2999), (ledger.COMMISSION, -450),
                (ledger.creator_account(1, "escrow"), -2549)], currency="USD")
            db.session.commit()
        rate = postings / (time.perf_counter() - started)
        # 2. data for the webhook run: one paid course, one pending order per buyer
        creator = make_user()
        course = make_course(creator, status="published", price_minor=2999)
        orders = []
        for _ in range(events):
            buyer = make_user()
            order, _url = start_checkout(buyer, course)
            db.session.commit()
            orders.append((order.id, order.checkout_session_id, buyer.id))
        secret = app.config["STRIPE_WEBHOOK_SECRET"]

    env = {**os.environ, "SESSION_COOKIE_SECURE": "false", "RATELIMIT_ENABLED": "false"}
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                            "--bind", f"127.0.0.1:{PORT}", "--workers", "1", "--access-logfile", "/dev/null",
                            "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "high"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with app.app_context():
            for order_id, session_id, buyer_id in orders:
                payload = json.dumps({
                    "id": f"evt_bench_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
                    "created": int(time.time()), "data": {"object": {
                        "id": session_id, "object": "checkout.session", "payment_status": "paid",
                        "amount_total": 2999, "currency": "usd", "payment_intent": f"pi_{uuid.uuid4().hex}",
                        "metadata": {"order_id": str(order_id)}}}}).encode()
                request = urllib.request.Request(f"http://127.0.0.1:{PORT}/webhooks/stripe", data=payload,
                                                 headers={"Stripe-Signature": sign(payload, secret),
                                                          "Content-Type": "application/json"})
                started = time.perf_counter()
                urllib.request.urlopen(request, timeout=10).read()
                while True:
                    db.session.rollback()
                    if db.session.query(Enrollment.id).filter_by(learner_id=buyer_id).first():
                        break
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("enrollment never appeared: is the worker running?")
                    time.sleep(0.002)
                latencies.append((time.perf_counter() - started) * 1000)
            problems = ledger.check_invariants()
    finally:
        for proc in (web, worker):
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    print("| measure | result |\n|---|---|")
    print(f"| ledger postings/s (3 legs, one commit each) | {rate:.0f} |")
    print(f"| webhook → enrollment visible, p50 | {statistics.median(latencies):.1f} ms |")
    print(f"| webhook → enrollment visible, p95 | {percentile(latencies, 95):.1f} ms |")
    print(f"| webhook → enrollment visible, p99 | {percentile(latencies, 99):.1f} ms |")
    print(f"| events | {len(latencies)} |\n| ledger invariants after the run | {'OK' if not problems else problems} |")


if __name__ == "__main__":
    main()
