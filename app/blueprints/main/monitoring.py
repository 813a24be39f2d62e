"""`/healthz` and `/metrics`: thin views over app/observability, and the scrape-time figures
that come from the domains (money waiting, from the commerce services)."""
from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Response, abort, current_app, jsonify, request

from app.blueprints.main import bp
from app.commerce.payouts import payout_counts
from app.commerce.webhooks import unapplied_event_counts
from app.extensions import get_redis
from app.observability import metrics as figures
from app.observability.health import check_health
from app.observability.heartbeats import heartbeat_figures


@bp.get("/healthz")
def health():
    """Database and Redis (503 when either fails), workers' and the clock's heartbeats
    ("degraded", still 200, when none was seen lately)."""
    config = current_app.config
    verdict = check_health(inline=config["JOBS_INLINE"], stale_after=config["HEARTBEAT_STALE_SECONDS"],
                           now=time.time())
    resp = jsonify(status=verdict.status, checks=verdict.checks)
    resp.status_code = verdict.http_status
    return resp


@bp.get("/metrics")
def metrics():
    """Prometheus figures, for allowed addresses and the bearer of `METRICS_TOKEN`; anyone
    else gets the site's 404, as for a page that does not exist."""
    config = current_app.config
    if not figures.may_scrape(request.remote_addr, request.headers.get("Authorization"),
                              allow=config["METRICS_ALLOW"], token=config["METRICS_TOKEN"]):
        abort(404)
    body = figures.exposition([
        figures.job_figures(current_app.extensions["rq_queues"]),
        heartbeat_figures(get_redis(), inline=config["JOBS_INLINE"], now_fn=time.time),
        money_figures,
    ])
    resp = Response(body, content_type=figures.CONTENT_TYPE)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def money_figures() -> Iterator[figures.Metric]:
    """Money waiting: provider events not applied yet, payouts waiting or failed."""
    yield figures.gauge("lyceum_payment_events_unapplied",
                        "Provider webhook events stored but not applied yet, by status",
                        "status", unapplied_event_counts())
    yield figures.gauge("lyceum_payouts", "Payouts waiting (awaiting_approval, queued, processing) "
                        "and failed, by status", "status", payout_counts())
