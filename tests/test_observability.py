"""What operators see, inside one process: `/metrics` (who may read it, what it counts) and
the worker and clock lines of `/healthz`. Processes (gunicorn's workers summed, a real RQ
worker and clock) are in test_observability_processes.py."""
from __future__ import annotations

import contextvars
import time

import pytest

from app.commerce.models import PaymentEvent, Payout
from app.config import TestConfig
from app.extensions import db, get_redis
from app.factory import create_app
from app.messaging.bus import bus, publish_now
from app.observability.heartbeats import beat, heartbeat_key
from app.observability.metrics import SENT_AT, may_scrape
from tests.support.observability import figure, scrape

OUTSIDE = "203.0.113.9"  # TEST-NET-3: an address on the internet


@pytest.fixture
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    return "s3cret-scrape-token"


@pytest.fixture
def behind_nginx(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROXY_TRUSTED_HOPS", 1)


@pytest.fixture
def jobs_on_workers(app, monkeypatch):
    """The deployment's shape: jobs go to RQ workers and periodic work to the clock."""
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    redis = get_redis()
    keys = [heartbeat_key(role) for role in ("worker", "clock")]
    redis.delete(*keys)
    yield
    redis.delete(*keys)


# --- who may read /metrics ----------------------------------------------------------------------

def test_metrics_are_served_to_loopback_in_prometheus_text(client):
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers  # no session is started or touched
    text = resp.get_data(as_text=True)
    for name in ("lyceum_http_requests_total", "lyceum_http_request_duration_seconds",
                 "lyceum_live_connections", "lyceum_bus_lag_seconds", "lyceum_jobs_queued",
                 "lyceum_jobs_failed", "lyceum_payment_events_unapplied", "lyceum_payouts"):
        assert f"# TYPE {name} " in text, name


def test_metrics_are_a_404_to_anyone_else_like_a_page_that_does_not_exist(client):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDE})
    missing = client.get("/no-such-page", environ_base={"REMOTE_ADDR": OUTSIDE})
    assert resp.status_code == missing.status_code == 404
    assert b"lyceum_" not in resp.data and b"<html" in resp.data


def test_the_bearer_of_the_token_may_read_them_from_anywhere(client, token):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDE},
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and b"lyceum_http_requests_total" in resp.data


@pytest.mark.parametrize("authorization", ["Bearer wrong-token", "Bearer ", "Basic czNjcmV0LXNjcmFwZS10b2tlbg==",
                                           "s3cret-scrape-token", "Bearer s3cret-scrape-token-and-more"])
def test_a_wrong_token_is_a_404(client, token, authorization):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDE},
                      headers={"Authorization": authorization})
    assert resp.status_code == 404


def test_without_a_token_configured_no_bearer_gets_in(client):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDE}, headers={"Authorization": "Bearer "})
    assert resp.status_code == 404


def test_behind_nginx_a_visitor_is_not_loopback_though_nginx_is(client, behind_nginx):
    """nginx on the same machine connects from 127.0.0.1; the client is the address it adds."""
    outside = client.get("/metrics", headers={"X-Forwarded-For": OUTSIDE})
    spoofed = client.get("/metrics", headers={"X-Forwarded-For": f"127.0.0.1, {OUTSIDE}"})
    local = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert (outside.status_code, spoofed.status_code, local.status_code) == (404, 404, 200)


def test_metrics_allow_takes_networks(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.0.0.0/8, 192.0.2.7")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 404
    assert client.get("/metrics").status_code == 404  # loopback is no longer listed


@pytest.mark.parametrize(("address", "allowed"), [
    ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("203.0.113.9", False), ("::ffff:203.0.113.9", False), ("2001:db8::1", False), ("", False),
    (None, False), ("not an address", False)])
def test_the_default_allow_list_is_loopback(address, allowed):
    assert may_scrape(address, None, allow="127.0.0.0/8,::1/128", token=None) is allowed


def test_a_mistyped_allow_list_stops_the_app():

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        METRICS_ALLOW = "127.0.0.0/33"

    with pytest.raises(ValueError):
        create_app(Config)


# --- what it counts -----------------------------------------------------------------------------

def test_a_request_is_counted_by_method_endpoint_and_status_and_timed(client):
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    after = scrape(client)
    labels = {"method": "GET", "endpoint": "main.health", "status": "200"}
    assert figure(after, "lyceum_http_requests_total", **labels) == \
        figure(before, "lyceum_http_requests_total", **labels) + 1
    timed = {"method": "GET", "endpoint": "main.health"}
    assert figure(after, "lyceum_http_request_duration_seconds_count", **timed) == \
        figure(before, "lyceum_http_request_duration_seconds_count", **timed) + 1


def test_paths_nothing_matches_are_counted_under_one_name_never_their_own(client):
    before = scrape(client)
    for n in range(3):
        client.get(f"/no-such-page-{n}/secret-token-in-url")
    after = scrape(client)
    labels = {"method": "GET", "endpoint": "none", "status": "404"}
    assert figure(after, "lyceum_http_requests_total", **labels) == \
        figure(before, "lyceum_http_requests_total", **labels) + 3
    assert "no-such-page" not in after and "secret-token" not in after


def test_an_unknown_method_is_counted_as_other(client):
    before = scrape(client)
    client.open("/", method="BREW")
    after = scrape(client)
    assert figure(after, "lyceum_http_requests_total", method="other") == \
        figure(before, "lyceum_http_requests_total", method="other") + 1
    assert "BREW" not in after


def test_the_bus_lag_is_measured_and_listeners_see_the_event_as_published(client):
    channel = f"lyceum-test-lag-{time.time_ns()}"
    before = figure(scrape(client), "lyceum_bus_lag_seconds_count")
    with bus().subscribe([channel]) as sub:
        publish_now(channel, {"type": "probe", "n": 1})
        event = sub.get(timeout=5)
    assert event == {"type": "probe", "n": 1} and SENT_AT not in event
    after = scrape(client)
    assert figure(after, "lyceum_bus_lag_seconds_count") == before + 1
    assert figure(after, "lyceum_bus_lag_seconds_bucket", le="+Inf") >= before + 1


def test_an_open_event_stream_is_counted_until_it_closes(app, client, login, learner):
    login(learner)
    scraper = app.test_client()
    kind = {"kind": "event_stream"}
    before = figure(scrape(scraper), "lyceum_live_connections", **kind)
    context = contextvars.copy_context()  # the stream runs in a context of its own
    stream = context.run(client.get, "/notifications/stream", buffered=False)
    try:
        assert stream.status_code == 200
        assert figure(scrape(scraper), "lyceum_live_connections", **kind) == before + 1
    finally:
        context.run(stream.close)
    assert figure(scrape(scraper), "lyceum_live_connections", **kind) == before


def test_money_waiting_is_read_when_scraped(client, make_user):
    before = scrape(client)
    stamp = time.time_ns()
    creator = make_user()
    db.session.add_all([
        *(PaymentEvent(provider="stripe", event_id=f"evt_{stamp}_{n}", type="checkout.session.completed",
                       payload={}, status=status)
          for n, status in enumerate(("pending", "parked", "parked", "applied"))),
        Payout(creator_id=creator.id, amount_minor=500, currency="USD", provider="stripe",
               destination="acct_1", status="failed"),
        Payout(creator_id=creator.id, amount_minor=700, currency="USD", provider="stripe",
               destination="acct_1", status="awaiting_approval"),
        Payout(creator_id=creator.id, amount_minor=900, currency="USD", provider="stripe",
               destination="acct_1", status="paid")])
    db.session.commit()
    after = scrape(client)

    def grew(name, **labels):
        return figure(after, name, **labels) - figure(before, name, **labels)

    assert grew("lyceum_payment_events_unapplied", status="pending") == 1
    assert grew("lyceum_payment_events_unapplied", status="parked") == 2
    assert 'status="applied"' not in after
    assert grew("lyceum_payouts", status="failed") == 1
    assert grew("lyceum_payouts", status="awaiting_approval") == 1
    assert grew("lyceum_payouts", status="queued") == 0
    assert 'status="paid"' not in after


# --- worker and clock in /healthz ---------------------------------------------------------------

def test_with_jobs_inline_no_worker_or_clock_is_needed(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"
    assert (resp.json["checks"]["worker"], resp.json["checks"]["clock"]) == ("inline", "inline")


def test_no_worker_ever_seen_is_degraded_but_still_200(client, jobs_on_workers):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "degraded", "checks": {"database": "ok", "redis": "ok",
                                                          "worker": "never seen", "clock": "never seen"}}


def test_a_recent_heartbeat_of_both_is_ok(client, jobs_on_workers):
    beat(get_redis(), heartbeat_key("worker"), now=time.time())
    beat(get_redis(), heartbeat_key("clock"), now=time.time() - 5)
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"
    assert (resp.json["checks"]["worker"], resp.json["checks"]["clock"]) == ("ok", "ok")


def test_a_stale_heartbeat_says_how_long_ago(client, jobs_on_workers):
    beat(get_redis(), heartbeat_key("worker"), now=time.time())
    beat(get_redis(), heartbeat_key("clock"), now=time.time() - 300)
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json["status"] == "degraded"
    assert resp.json["checks"]["worker"] == "ok"
    assert resp.json["checks"]["clock"] in ("not seen for 300s", "not seen for 301s")


def test_the_stale_threshold_is_a_setting(client, jobs_on_workers, app, monkeypatch):
    monkeypatch.setitem(app.config, "HEARTBEAT_STALE_SECONDS", 600)
    for role in ("worker", "clock"):
        beat(get_redis(), heartbeat_key(role), now=time.time() - 300)
    assert client.get("/healthz").json["status"] == "ok"


def test_heartbeat_ages_are_figures(client, jobs_on_workers):
    beat(get_redis(), heartbeat_key("worker"), now=time.time() - 42)
    text = scrape(client)
    assert 42 <= figure(text, "lyceum_heartbeat_age_seconds", role="worker") < 100
    assert 'role="clock"' not in text  # never seen: no age to give
