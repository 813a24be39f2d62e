"""The analytics pages' figures block, kept in Redis for `ANALYTICS_CACHE_SECONDS` (60; 0 turns
it off) and keyed by the figures' versions (app/analytics/live.py).

Every change of a creator's figures (a sale, an enrolment, a flush of page views, a rebuild)
moves a version after its commit, before the open pages hear of it: so the cache never shows
figures older than the last change, and a dashboard re-read many times, or opened by many
admins, costs one Redis read instead of every section's queries and their rendering. What
changes with time alone (the learners active in the last 7 days) is at most that long behind.
A Redis failure only costs the cache.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import current_app, make_response
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from redis.exceptions import RedisError

from app.analytics import live
from app.analytics.periods import Period
from app.analytics.scope import Scope
from app.blueprints.htmx import render_page, wants_fragment
from app.extensions import get_redis, redis_key

BLOCK = "figures"


def _key(template: str, scope: Scope, period: Period, grain: str, vary: str, version: str) -> str:
    name = "|".join(str(part) for part in (template, scope.creator_id, scope.course_id, period.start, period.end,
                                           period.key, grain, vary, version))
    return redis_key("analytics", "figures", hashlib.sha256(name.encode()).hexdigest())


def figures_page(template: str, ctx: dict, sections: Callable[[], dict], *, vary: str = ""):
    """The page (or, for htmx, its figures block alone) with the block's HTML from the cache
    when the figures have not changed; `sections()` computes the block's context otherwise.
    `vary` names what else the block depends on (e.g. which links the viewer may follow)."""
    seconds = current_app.config.get("ANALYTICS_CACHE_SECONDS", 60)
    scope, period, grain = ctx["scope"], ctx["period"], ctx["grain"]
    key = html = None
    if seconds > 0:
        version = live.versions(scope.creator_id)
        if version:
            key = _key(template, scope, period, grain, vary, version)
            try:
                found = get_redis().get(key)
            except RedisError:
                found = None
            html = found.decode() if found else None
    if html is None:
        html = render_block(template, BLOCK, fragment=True, **ctx, **sections())
        if key is not None:
            try:
                get_redis().setex(key, seconds, html)
            except RedisError:
                pass
    if wants_fragment():
        response = make_response(html)
        response.vary.add("HX-Request")
        return response
    return render_page(template, BLOCK, figures_html=Markup(html), **ctx)
