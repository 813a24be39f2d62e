"""Helpers for the HTTP-level tests: more personas, a second browser, tiny uploads."""
from __future__ import annotations

import html
import re
import struct
import zlib

import pytest

HX = {"HX-Request": "true"}


def png(width: int = 1, height: int = 1, padding: int = 0) -> bytes:
    """A valid PNG made here; `padding` bytes of an ancillary chunk make it as large as needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    parts = [b"\x89PNG\r\n\x1a\n",
             chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if padding:
        parts.append(chunk(b"zzZz", b"\x00" * padding))
    parts += [chunk(b"IDAT", zlib.compress(raw)), chunk(b"IEND", b"")]
    return b"".join(parts)


def text(resp) -> str:
    """The response body with HTML entities decoded, for message checks."""
    return html.unescape(resp.get_data(as_text=True))


def link_in(message, path_prefix: str) -> str:
    """The path of the first link under `path_prefix` in a mail's body."""
    body = message.get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", body)
    assert match, f"no {path_prefix} link in:\n{body}"
    return match.group(1)


def csrf_header_token(resp) -> str:
    """The token the page hands to htmx in `<body hx-headers='{"X-CSRFToken": …}'>`."""
    match = re.search(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", resp.get_data(as_text=True))
    assert match, "the page has no hx-headers CSRF token"
    return match.group(1)


def form_token(resp) -> str:
    """The hidden `csrf_token` input of the first form on the page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'type="hidden" name="csrf_token" value="([^"]+)"|'
                      r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True))
    assert match, "the page has no csrf_token input"
    return next(g for g in match.groups() if g)


@pytest.fixture
def moderator(make_user):
    """An admin who may moderate but not manage users."""
    return make_user(email="moderator@example.test", display_name="Moe Moderator",
                     permissions=("moderate",))


@pytest.fixture
def other_client(app):
    """A second browser, with its own cookies."""
    return app.test_client()
