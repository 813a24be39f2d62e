"""Whole-page caching for visitors who are not signed in (the public catalog).

Their pages carry nothing personal (no name, no badge, no CSRF token in the layout, no
flashed message — a request with one is never cached nor served from cache), so one
rendering serves everyone for a few seconds: from Redis in every web process, and from any
CDN in front (`Cache-Control: public`). Signed-in users always get a fresh page.
"""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, make_response, request, session
from flask_login import current_user
from redis.exceptions import RedisError

from app.blueprints.htmx import wants_fragment
from app.extensions import get_redis, redis_key


def public_page_cache(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        ttl = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if (not ttl or request.method != "GET" or current_user.is_authenticated
                or session.get("_flashes")):
            return view(*args, **kwargs)
        fragment = wants_fragment()
        key = redis_key("page", hashlib.sha256(f"{request.full_path}|{fragment}".encode()).hexdigest())
        redis = get_redis()
        try:
            cached = redis.get(key)
        except RedisError:
            cached = None
        if cached is not None:
            resp = make_response(cached)
            resp.headers["X-Cache"] = "hit"
        else:
            resp = make_response(view(*args, **kwargs))
            if resp.status_code == 200:
                try:
                    redis.setex(key, ttl, resp.get_data())
                except RedisError:
                    pass
            resp.headers["X-Cache"] = "miss"
        resp.headers["Cache-Control"] = f"public, max-age={ttl}"
        # htmx's history restore (back button) sends HX-Request too but wants the whole page:
        # without its own header in Vary, a browser or CDN answers it with a cached fragment.
        resp.vary.update(("HX-Request", "HX-History-Restore-Request", "Cookie"))
        return resp

    return wrapper
