"""Request bodies are capped per route before anything reads them (issue #13, item 5):
webhooks and forms at REQUEST_MAX_BYTES (1 MiB), uploads at their kind's own limit. A
declared Content-Length over the cap is refused unread; a chunked body (no length) is
cut off once it passes the cap."""
from __future__ import annotations

import io
import json
import re

import pytest

from app.blueprints.limits import UPLOAD_ENDPOINTS
from tests.support.pages import HX, text

MB = 1024 * 1024
FIFTY_MB = 50 * MB


class Endless(io.RawIOBase):
    """A request body of `size` zero bytes that exists only as it is read, and counts what
    was read (the test client seeks to the end to learn its length, then back)."""

    def __init__(self, size: int):
        super().__init__()
        self.size, self.position, self.consumed = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buf) -> int:
        n = max(0, min(len(buf), self.size - self.position))
        buf[:n] = bytes(n)
        self.position += n
        self.consumed += n
        return n


def post_big(client, url: str, size: int = FIFTY_MB, *, chunked: bool = False,
             content_type: str = "application/x-www-form-urlencoded", headers=None):
    """POST `size` bytes to `url`: with a Content-Length, or chunked (the server only
    knows the body has ended when it sees the end, as with `Transfer-Encoding: chunked`)."""
    body = Endless(size)
    if chunked:
        resp = client.post(url, input_stream=body, content_type=content_type,
                           headers={"Transfer-Encoding": "chunked", **(headers or {})},
                           environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    else:
        resp = client.post(url, input_stream=body, content_type=content_type,
                           content_length=size, headers=headers or {})
    return resp, body


LIMIT_MESSAGE = "That request is too large: this page accepts at most 1 MB."

ROUTES = {
    "stripe webhook": ("/webhooks/stripe", "application/json", False),
    "paypal webhook": ("/webhooks/paypal", "application/json", False),
    "anonymous log-in form": ("/auth/login", "multipart/form-data; boundary=x", False),
    "anonymous sign-up form": ("/auth/signup", "application/x-www-form-urlencoded", False),
    "signed-in settings form": ("/auth/settings/profile", "application/x-www-form-urlencoded", True),
    "signed-in course form": ("/studio/courses/new", "application/x-www-form-urlencoded", True),
}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", list(ROUTES))
def test_fifty_megabytes_to_any_form_or_webhook_is_a_413_with_the_reason(client, login, learner,
                                                                        csrf_on, kind, chunked):
    url, content_type, signed_in = ROUTES[kind]
    if signed_in:
        login(learner)
    resp, body = post_big(client, url, chunked=chunked, content_type=content_type)
    assert resp.status_code == 413
    if url.startswith("/webhooks/"):
        assert json.loads(resp.data)["error"]["message"] == LIMIT_MESSAGE
    else:
        assert b"<html" in resp.data and LIMIT_MESSAGE in text(resp)
    if chunked:  # read only up to the cap, then cut off
        assert MB < body.consumed <= MB + 64 * 1024
    else:  # refused from its Content-Length: not a byte read
        assert body.consumed == 0


def test_an_htmx_form_gets_the_reason_as_an_alert(client, login, learner):
    login(learner)
    resp, body = post_big(client, "/auth/settings/profile", headers=HX)
    assert resp.status_code == 413 and b"<html" not in resp.data
    assert resp.headers["HX-Retarget"] == "#alerts" and LIMIT_MESSAGE in text(resp)
    assert body.consumed == 0


def test_an_upload_over_its_kinds_limit_is_refused_unread(client, login, learner):
    login(learner)
    resp, body = post_big(client, "/auth/settings/avatar", content_type="multipart/form-data; boundary=x")
    assert resp.status_code == 413 and "That upload is too large." in text(resp)
    assert body.consumed == 0


def test_an_upload_route_still_takes_more_than_the_form_cap(client, login, learner):
    """The avatar's own cap (2 MiB) is above the forms' 1 MiB: a 1.5 MiB file is read,
    and refused for what it is, not for its size."""
    login(learner)
    resp = client.post("/auth/settings/avatar", content_type="multipart/form-data",
                       data={"avatar": (io.BytesIO(b"\0" * (MB + MB // 2)), "me.png")})
    assert resp.status_code == 422


def test_a_body_just_under_the_cap_is_read_as_usual(client):
    resp, body = post_big(client, "/webhooks/stripe", size=MB - 1, content_type="application/json")
    assert resp.status_code == 400  # read to the end, and its signature checked
    assert body.consumed == MB - 1


def test_the_cap_follows_the_setting(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REQUEST_MAX_BYTES", 4096)
    resp, body = post_big(client, "/auth/login", size=4097)
    assert resp.status_code == 413 and body.consumed == 0
    assert "this page accepts at most 4 KB." in text(resp)


def _example_path(rule) -> str:
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if type(converter).__name__.endswith("IntConverter") else "x"
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def test_only_the_declared_upload_routes_take_more_than_the_form_cap(app, client, login, learner):
    """Every POST route but the uploads refuses a body one byte over the cap, unread."""
    login(learner)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in UPLOAD_ENDPOINTS:
            continue
        resp, body = post_big(client, _example_path(rule), size=MB + 1)
        assert (resp.status_code, body.consumed) == (413, 0), rule.rule
        checked += 1
    assert checked > 50
