"""Every error keeps the site layout; htmx gets a fragment for the alert region."""
from __future__ import annotations

import logging

import pytest

from tests.support.apps import build_app
from tests.support.pages import HX, text


def assert_error_page(resp, status: int, title: str):
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    body = text(resp)
    assert "<html" in body and '<header class="site-header">' in body
    assert f"<h1>{title}</h1>" in body and f"Error {status}." in body


def assert_error_fragment(resp, status: int, title: str):
    assert resp.status_code == status
    body = text(resp)
    assert "<html" not in body
    assert body.startswith(f'<p class="flash flash-error" role="alert"><strong>{title}.</strong>')
    assert resp.headers["HX-Retarget"] == "#alerts"
    assert resp.headers["HX-Reswap"] == "innerHTML"


def test_404_keeps_the_layout(client):
    resp = client.get("/no/such/page")
    assert_error_page(resp, 404, "Page not found")
    assert "We could not find that page." in text(resp)


def test_404_over_htmx_is_an_alert_fragment(htmx):
    assert_error_fragment(htmx.get("/no/such/page"), 404, "Page not found")


def test_404_keeps_the_signed_in_header(client, login, learner):
    login(learner)
    resp = client.get("/no/such/page")
    assert "Lena Learner</summary>" in text(resp)


def test_405_keeps_the_layout(client):
    resp = client.post("/healthz")
    assert_error_page(resp, 405, "Method not allowed")
    assert "That address does not accept this kind of request." in text(resp)
    assert "GET" in resp.headers["Allow"]


def test_405_over_htmx_is_an_alert_fragment(htmx):
    assert_error_fragment(htmx.post("/"), 405, "Method not allowed")


def test_413_for_an_oversized_request_keeps_the_layout(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    resp = client.post("/auth/login", data={"email": "x" * 4096, "password": "y"})
    assert_error_page(resp, 413, "Too large")
    assert "That request is too large: this page accepts at most 1 KB." in text(resp)


def test_413_for_an_oversized_upload_over_htmx_is_an_alert_fragment(app, client, login, learner,
                                                                   monkeypatch):
    import io
    login(learner)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    resp = client.post("/auth/settings/avatar", headers=HX, content_type="multipart/form-data",
                       data={"avatar": (io.BytesIO(b"\0" * 4096), "big.png")})
    assert_error_fragment(resp, 413, "Too large")


def test_domain_error_keeps_the_layout(client, login, learner):
    login(learner)
    resp = client.get("/admin/")
    assert_error_page(resp, 403, "Not allowed")


def test_api_errors_are_problem_details(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json(force=True) == {"type": "about:blank", "status": 404, "title": "Page not found",
                                         "detail": "We could not find that page."}


def test_webhook_errors_stay_plain_json(client):
    resp = client.get("/webhooks/no-such-provider")
    assert resp.status_code in (404, 405)
    assert resp.json["error"]["status"] == resp.status_code


def test_null_character_in_a_request_is_a_400_not_a_crash(client):
    for resp in (client.get("/avatars/a%00b.png"), client.get("/admin/users?q=a%00"),
                 client.get("/courses/?q%00=python"), client.get("/courses/?q=py\x00thon"),
                 client.post("/auth/login", data={"email": "a\x00@example.test", "password": "x"}),
                 client.post("/auth/login", data={"email\x00": "a@example.test", "password": "x"}),
                 client.post("/auth/login", content_type="multipart/form-data",
                             data={"email": "a@example.test", "password": "x\x00"})):
        assert_error_page(resp, 400, "Bad request")
        assert "The request contains a character that is not allowed." in text(resp)


@pytest.fixture(scope="module")
def crashing_app(app):
    """A separate app with a route that fails, serving errors as production does (not
    re-raised into the test); it shares the session app's limiter storage."""
    other, teardown = build_app(PROPAGATE_EXCEPTIONS=False,
                                RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"])

    @other.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    yield other
    teardown()


def test_500_keeps_the_layout_and_hides_the_details(crashing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="app.blueprints.errors"):
        resp = crashing_app.test_client().get("/boom")
    assert_error_page(resp, 500, "Something went wrong")
    assert "We hit a problem on our side and have logged it." in text(resp)
    assert "secret internals" not in text(resp)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert any("unhandled error on GET /boom" in r.getMessage() and r.exc_info
               for r in caplog.records)


def test_500_over_htmx_is_an_alert_fragment(crashing_app):
    resp = crashing_app.test_client().get("/boom", headers=HX)
    assert_error_fragment(resp, 500, "Something went wrong")


def test_the_crashing_route_is_not_on_the_session_app(client):
    assert client.get("/boom").status_code == 404
