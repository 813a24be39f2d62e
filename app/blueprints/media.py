"""Serving stored files: HTTP Range (so video seeks), the sniffed type, nosniff."""
from __future__ import annotations

import re

from flask import Response, redirect, request

from app.storage import get_storage

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def send_stored(key: str, content_type: str, *, filename: str = "", inline: bool = True,
                cache: str = "private, max-age=3600") -> Response:
    storage = get_storage()
    safe_name = "".join(c for c in filename if c.isalnum() or c in "._- ")[:100] or "file"
    disposition = f'{"inline" if inline else "attachment"}; filename="{safe_name}"'
    if storage.signed_urls:  # S3: the store serves the bytes (and Range) itself
        resp = redirect(storage.signed_url(key, content_type=content_type, disposition=disposition))
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
    size = storage.size(key)
    start, end, status = 0, size - 1, 200
    header = request.headers.get("Range")
    if header:
        match = RANGE.match(header.strip())
        if match is None or match.groups() == ("", ""):
            return _unsatisfiable(size)
        first, last = match.groups()
        if first == "":  # the last N bytes
            length = int(last)
            if length == 0:
                return _unsatisfiable(size)
            start = max(size - length, 0)
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            return _unsatisfiable(size)
        status = 206
    resp = Response(storage.iter_range(key, start, end), status=status, mimetype=content_type,
                    direct_passthrough=True)
    resp.headers["Content-Length"] = str(end - start + 1)
    resp.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    resp.headers["Content-Disposition"] = disposition
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = cache
    return resp


def _unsatisfiable(size: int) -> Response:
    resp = Response("Requested range not satisfiable", status=416, mimetype="text/plain")
    resp.headers["Content-Range"] = f"bytes */{size}"
    return resp
