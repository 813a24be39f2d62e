"""What every API request goes through: the bearer token, the rate limit, and on the way
out the `RateLimit-*` headers, the ETag of a read and its caching rules.

A request speaks for the user of its bearer token (accounts/bearer.py). A malformed,
unknown, expired or revoked token is a 401 even where no token is needed: a client should
learn at once that its token no longer works. A suspended user's token is a 403 at once.
Browser cookies are ignored: the API never acts for a session, so it needs no CSRF token.
"""
from __future__ import annotations

import math
import time

from flask import current_app, g, request
from limits import parse_many

from app.accounts.bearer import token_from_header
from app.blueprints.api import bp
from app.blueprints.api.problems import problem
from app.blueprints.bearer import grant_for
from app.extensions import csrf, limiter

csrf.exempt(bp)

UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="lyceum", error="invalid_token"'}


@bp.before_request
def authenticate() -> None:
    g.api_grant = None
    header = request.headers.get("Authorization")
    if header is not None:
        token = token_from_header(header)
        if token is None:
            raise problem(401, "Send the token as `Authorization: Bearer <token>`.", headers=UNAUTHENTICATED)
        g.api_grant = grant_for(token)  # AccountSuspended: a 403 naming the reason
        if g.api_grant is None:
            raise problem(401, "This token is unknown, expired or revoked.", headers=UNAUTHENTICATED)
    _count_against_rate_limit()


def _count_against_rate_limit() -> None:
    """One hit per request on the token's limit (or the address's, without a token). Reads
    count too: the site-wide limiter skips reads (extensions.py), so this is our own check
    on the same storage."""
    g.api_rate = None
    if not limiter.enabled or not current_app.config["RATELIMIT_ENABLED"]:
        return
    grant = g.api_grant
    setting = "API_RATE_LIMIT" if grant is not None else "API_ANONYMOUS_RATE_LIMIT"
    key = grant.rate_key if grant is not None else f"ip:{request.remote_addr}"
    strategy = limiter.limiter
    for item in parse_many(current_app.config[setting]):
        allowed = strategy.hit(item, "api", key)
        stats = strategy.get_window_stats(item, "api", key)
        reset = max(math.ceil(stats.reset_time - time.time()), 0)
        if g.api_rate is None or stats.remaining < g.api_rate[1]:
            g.api_rate = (item.amount, stats.remaining, reset)
        if not allowed:
            raise problem(429, f"Too many requests: at most {item.amount} per {item.GRANULARITY.name}. "
                               f"Try again in {max(reset, 1)} seconds.",
                          headers={"Retry-After": str(max(reset, 1)), **_rate_headers(g.api_rate)})


def _rate_headers(rate: tuple[int, int, int] | None) -> dict[str, str]:
    if rate is None:
        return {}
    limit, remaining, reset = rate
    return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(remaining, 0)),
            "RateLimit-Reset": str(reset)}


@bp.after_request
def finish(resp):
    resp.headers.update(_rate_headers(g.get("api_rate")))
    resp.vary.add("Authorization")
    # Every answer is revalidated: a token's view of a course (enrolled, owner) may change.
    # (A stream keeps its own: an event stream's "no-transform" keeps proxies from buffering
    # it, a file's says whether it is public.)
    if not g.get("api_streamed"):
        resp.headers["Cache-Control"] = "private, no-cache" if g.get("api_grant") else "no-cache"
    if request.method in ("GET", "HEAD") and resp.status_code == 200 and not g.get("api_streamed"):
        resp.add_etag()
        resp.make_conditional(request)
    return resp
