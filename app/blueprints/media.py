"""Serving stored files: HTTP Range (so video seeks), the sniffed type, nosniff."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response, abort, redirect, request

from app.catalog import media
from app.catalog.queries import get_lesson
from app.extensions import db
from app.learning import deliveries
from app.learning.queries import active_enrollment
from app.storage import get_storage

# One byte range. The unit is case-insensitive (RFC 9110 §14.1).
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE)


# Every stored file gets a policy of its own instead of the pages' one (security.py), so that
# only pages of this site can frame it (the player shows a PDF in an <object>) while every
# page keeps `frame-ancestors 'none'`. A PDF or image is served as a sandboxed document
# (`sandbox` without `allow-scripts`: an opaque origin, no script) that loads nothing: a
# viewer that renders an uploaded PDF as a page of its URL's origin runs none of it as this
# site. Checked in Chromium 156: it still shows such a PDF inline in <object>, <embed> and
# <iframe> (its viewer runs the PDF out of process), but not inside an <iframe sandbox>, so
# the player does not use one. A video is not sandboxed: opened on its own, Chromium fetches
# its bytes from the sandbox's opaque origin and refuses them (CORS), so it would not play;
# a video document runs no script anyway.
FRAMED_BY_US = "frame-ancestors 'self'"
MEDIA_CSP = {
    "application/pdf": f"sandbox; default-src 'none'; {FRAMED_BY_US}",
    "video": f"default-src 'none'; media-src 'self'; {FRAMED_BY_US}",
    "image": f"sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; {FRAMED_BY_US}",
}
# What a private file (a paid lesson's video or PDF) may be kept as: nothing, so a refunded
# or revoked learner does not keep it in the browser's cache.
NO_STORE = "no-store"


def media_csp(content_type: str) -> str:
    """The Content-Security-Policy a stored file is served with (the strictest for a type
    not listed)."""
    return MEDIA_CSP.get(content_type) or MEDIA_CSP.get(content_type.partition("/")[0]) \
        or MEDIA_CSP["application/pdf"]


def media_headers(resp: Response, content_type: str) -> Response:
    resp.headers["Content-Security-Policy"] = media_csp(content_type)
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


class Unsatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a Range header asks for, or None to send the whole file.

    RFC 9110 §14.2 lets a server ignore Range, and requires it to ignore a unit it does not
    know. A header that does not parse ("bytes=abc", "bytes=-", "bytes=5-2", whose last
    byte comes before its first, §14.1.1) is not a range we can be asked to satisfy, so we
    ignore it and answer 200 with the whole file, which every client understands; several
    ranges at once are ignored the same way rather than answered as multipart/byteranges.
    416 is kept for a well-formed range that lies outside the file (§15.5.17): a first
    byte at or past the end, or a zero-length suffix (§14.1.2). Raises Unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable()
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return start, min(int(last), size - 1) if last else size - 1


def content_disposition(filename: str, inline: bool = True) -> str:
    """`inline; filename="…"` with an ASCII name every client reads, plus the UTF-8 name
    (RFC 6266 / RFC 8187 `filename*`) when they differ. Header values must be Latin-1, so
    a name like "видео.mp4" must never go into the header raw."""
    kept = "".join(c for c in (filename or "") if c.isalnum() or c in "._- ")[:100].strip()
    ascii_name = "".join(c for c in unicodedata.normalize("NFKD", kept)
                         if c.isascii() and (c.isalnum() or c in "._- ")).strip()
    stem, dot, ext = ascii_name.rpartition(".") if "." in ascii_name else (ascii_name, "", "")
    if not stem.strip(" ._-"):  # nothing readable left ("видео.mp4" -> ".mp4")
        ascii_name = f"file.{ext}" if ext else "file"
    value = f'{"inline" if inline else "attachment"}; filename="{ascii_name}"'
    if kept and kept != ascii_name:
        value += f"; filename*=UTF-8''{quote(kept, safe='')}"
    return value


def send_stored(key: str, content_type: str, *, filename: str = "", inline: bool = True,
                cache: str = NO_STORE) -> Response:
    """A stored file, Range-served, with its media policy. `cache` is `no-store` unless the
    caller says the file is public."""
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    if storage.signed_urls:  # S3: the store serves the bytes (and Range) itself
        resp = redirect(storage.signed_url(key, content_type=content_type,
                                           disposition=content_disposition(filename, inline),
                                           cache=cache))
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
    size = storage.size(key)
    try:
        wanted = byte_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        return _unsatisfiable(size)
    start, end = wanted if wanted is not None else (0, size - 1)
    status = 206 if wanted is not None else 200
    resp = Response(storage.iter_range(key, start, end), status=status, mimetype=content_type,
                    direct_passthrough=True)
    resp.headers["Content-Length"] = str(end - start + 1)
    resp.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    resp.headers["Content-Disposition"] = content_disposition(filename, inline)
    resp.headers["Cache-Control"] = cache
    return media_headers(resp, content_type)


def _unsatisfiable(size: int) -> Response:
    resp = Response("Requested range not satisfiable", status=416, mimetype="text/plain")
    resp.headers["Content-Range"] = f"bytes */{size}"
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def send_lesson_media(actor, lesson_id: int) -> Response:
    """A lesson's video or PDF, Range-served, for whoever `can_view_lesson` allows (the
    enrolled too): for the player's <video> and <object> and for API clients alike. A file
    (or part of it) that goes to an enrolled learner counts for the refund rule."""
    enrolled = active_enrollment(actor, get_lesson(lesson_id).course) is not None
    lesson, asset = media.access_lesson_media(actor, lesson_id, enrolled=enrolled)
    public = lesson.is_free_preview and lesson.course.status == "published"
    resp = send_stored(asset.storage_key, asset.content_type, filename=asset.original_name,
                       cache="public, max-age=3600" if public else NO_STORE)
    if enrolled and request.method == "GET" and resp.status_code in (200, 206, 302):
        deliveries.record_delivery(actor, lesson, "file")
        db.session.commit()
    return resp
