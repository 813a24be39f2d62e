"""Whole-page caching for visitors who are not signed in (the public catalog).

Their pages carry nothing personal (no name, no badge, no CSRF token in the layout, no
flashed message — a request with one is never cached nor served from cache), so one
rendering serves everyone for a few seconds: from Redis in every web process, and from any
CDN in front (`Cache-Control: public`). Signed-in users always get a fresh page.

Each process also keeps the pages it served lately in its own memory, each until the moment
it expires in Redis (stored beside it), so a hot page costs no Redis round trip — that trip
was a sixth of a cached page's time — and no page lives longer than `PAGE_CACHE_SECONDS`.

A page's key is its path and the query-string arguments its view understands (first value of
each, in one fixed order): anything else a visitor adds (`?pad=<random>`) changes nothing on
the page, so it must not make a new entry either — 3,000 such requests grew a process by 58 MB.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import urlencode

from flask import current_app, g, make_response, request, session
from flask_login import current_user
from redis.exceptions import RedisError

from app.blueprints.htmx import wants_fragment
from app.extensions import get_redis, redis_key

clock = time.time  # seconds since the epoch, as the expiry stored beside each page


class LocalPages:
    """A bounded map key -> (expires at, body); the oldest entry goes first when full."""

    def __init__(self, size: int):
        self.size = size
        self._pages: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> bytes | None:
        found = self._pages.get(key)
        if found is None:
            return None
        if found[0] <= now:
            self._pages.pop(key, None)
            return None
        return found[1]

    def put(self, key: str, expires: float, body: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages.pop(key, None)
            self._pages[key] = (expires, body)
            while len(self._pages) > self.size:
                del self._pages[next(iter(self._pages))]

    def __len__(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def local_pages() -> LocalPages:
    """This process's copies for the current app (made on first use)."""
    pages = current_app.extensions.get("local_pages")
    if pages is None:
        pages = current_app.extensions["local_pages"] = LocalPages(
            current_app.config.get("PAGE_CACHE_LOCAL_ENTRIES", 256))
    return pages


def note_page(text: str) -> None:
    """Keep `text` (one short line) beside this request's page if it is cached; `on_hit` gets it."""
    g.page_cache_note = text.replace("\n", " ")


def _cached(key: str, now: float) -> tuple[bytes, str] | None:
    """(body, note) of the cached page, or None."""
    pages = local_pages()
    kept = pages.get(key, now)
    if kept is not None:
        note, _, body = kept.partition(b"\n")
        return body, note.decode()
    try:
        stored = get_redis().get(key)
    except RedisError:
        return None
    if stored is None:
        return None
    head, _, body = stored.partition(b"\n")
    expires, _, note = head.partition(b" ")  # "<expires>[ <note>]\n<body>"
    try:
        expires_at = float(expires)
    except ValueError:  # not written by this code: ignore it
        return None
    pages.put(key, expires_at, b"%s\n%s" % (note, body))
    return (body, note.decode()) if expires_at > now else None


def _store(key: str, now: float, ttl: int, body: bytes, note: str) -> None:
    expires_at = now + ttl
    head = b"%.3f %s" % (expires_at, note.encode()) if note else b"%.3f" % expires_at
    try:
        get_redis().setex(key, ttl, b"%s\n%s" % (head, body))
    except RedisError:
        pass
    local_pages().put(key, expires_at, b"%s\n%s" % (note.encode(), body))


def page_key(path: str, args, understood: Iterable[str], fragment: bool) -> str:
    """The cache key of a page: its path and only the `understood` arguments, first value of
    each, empty ones left out (a view reads "" as absent), in the order `understood` gives."""
    known = urlencode([(name, args[name]) for name in understood if args.get(name)])
    return redis_key("page", hashlib.sha256(f"{path}?{known}|{fragment}".encode()).hexdigest())


def public_page_cache(understood: Iterable[str], *, on_hit: Callable[[str], None] | None = None):
    """Cache a visitor's page of a view that reads only the query arguments `understood`;
    `on_hit(note)` runs for each visitor served from the cache (see `note_page`)."""
    understood = tuple(understood)

    def decorate(view):
        return _cached_view(view, understood, on_hit)

    return decorate


def _cached_view(view, understood: tuple[str, ...], on_hit: Callable[[str], None] | None):
    @wraps(view)
    def wrapper(*args, **kwargs):
        ttl = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if (not ttl or request.method != "GET" or current_user.is_authenticated
                or session.get("_flashes")):
            return view(*args, **kwargs)
        key = page_key(request.path, request.args, understood, wants_fragment())
        now = clock()
        cached = _cached(key, now)
        if cached is not None:
            body, note = cached
            resp = make_response(body)
            resp.headers["X-Cache"] = "hit"
            if on_hit is not None:
                on_hit(note)
        else:
            resp = make_response(view(*args, **kwargs))
            if resp.status_code == 200:
                _store(key, now, ttl, resp.get_data(), g.get("page_cache_note", ""))
            resp.headers["X-Cache"] = "miss"
        resp.headers["Cache-Control"] = f"public, max-age={ttl}"
        # htmx's history restore (back button) sends HX-Request too but wants the whole page:
        # without its own header in Vary, a browser or CDN answers it with a cached fragment.
        resp.vary.update(("HX-Request", "HX-History-Restore-Request", "Cookie"))
        return resp

    return wrapper
