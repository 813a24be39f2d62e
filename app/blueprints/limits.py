"""How large a request body may be, decided before anything reads it.

Every request gets `REQUEST_MAX_BYTES` (1 MiB: forms, webhooks, anything anonymous) as
its `request.max_content_length`. Werkzeug then refuses a larger `Content-Length` with a
413 as soon as the body is touched, and stops a chunked body (no `Content-Length`) once
it passes the limit, so a 600 MB POST is never held in memory or spooled to disk.

The few routes that take files raise the cap for themselves, per kind of file, in their
blueprint's URL value preprocessor (`auth.avatar_update`, `studio.cover_upload`,
`studio.lesson_media`): Flask runs the app's preprocessor first and the blueprint's after
it, and both before any before-request hook (the CSRF check and the NUL guard parse the
form). `UPLOAD_ENDPOINTS` declares them; a test checks that no other route takes more.

A chunked body (`Transfer-Encoding: chunked`, no length) to any other route is read here,
up to the cap, and refused if it goes on: werkzeug would stop reading it at the cap
without a word, and the view would see a truncated body instead of a 413.
"""
from __future__ import annotations

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

UPLOAD_ENDPOINTS = frozenset({"auth.avatar_update", "studio.cover_upload", "studio.lesson_media",
                              "api.studio_cover", "api.studio_curriculum_lesson_media"})
UPLOAD_FORM_SLACK = 64 * 1024  # multipart boundaries (and a page's CSRF field) around the file


def raise_upload_cap(file_bytes: int) -> None:
    """Let this request (one of UPLOAD_ENDPOINTS) carry a file of `file_bytes`: called from
    its blueprint's URL value preprocessor, before anything reads the body."""
    request.max_content_length = file_bytes + UPLOAD_FORM_SLACK


def body_limit() -> int:
    """The cap for a request that carries no file: the smaller of the two settings."""
    cfg = current_app.config
    return min(filter(None, (cfg["REQUEST_MAX_BYTES"], cfg["MAX_CONTENT_LENGTH"])))


def too_large_message() -> str:
    """What a 413 says: for an upload, that the file is too large (its view names the
    limit when it sees it); otherwise how much this address accepts."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        return "That upload is too large."
    limit = request.max_content_length or body_limit()
    return f"That request is too large: this page accepts at most {_size(limit)}."


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    return f"{n / 1024:.3g} KB" if n >= 1024 else f"{n} bytes"


def register_body_limits(app: Flask) -> None:
    @app.url_value_preprocessor
    def limit_request_body(endpoint: str | None, values: dict | None) -> None:
        limit = request.max_content_length = body_limit()
        if endpoint not in UPLOAD_ENDPOINTS and _is_chunked():
            _read_chunked_body(limit)


def _is_chunked() -> bool:
    return "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_chunked_body(limit: int) -> None:
    """Read a chunked body of at most `limit` bytes and hand it on with its length; one
    byte more is a 413 (only `limit + 1` bytes are ever held)."""
    environ = request.environ
    stream, chunks, total = environ["wsgi.input"], [], 0
    while total <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    environ["CONTENT_LENGTH"] = str(total)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
