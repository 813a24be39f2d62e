"""The home page, the dashboard, avatars and the health check."""
from __future__ import annotations

import io

import pytest

from app.accounts import profile
from app.extensions import db
from app.messaging.notifications import notify
from tests.support.apps import build_app
from tests.support.uploads import png


def test_home_page_renders_with_layout(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"Learn from anyone" in resp.data
    assert b'href="/auth/signup"' in resp.data


def test_home_page_offers_the_dashboard_to_a_signed_in_user(client, login, learner):
    login(learner)
    resp = client.get("/")
    assert b"Go to your dashboard" in resp.data
    assert b"Create a free account" not in resp.data


def test_dashboard_greets_the_signed_in_user(client, login, learner):
    login(learner)
    resp = client.get("/dashboard/")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"Hello, Lena Learner" in resp.data
    assert b"Nothing new." in resp.data


def test_dashboard_lists_recent_notifications(client, login, learner):
    notify(learner, "welcome", name="Lena")
    db.session.commit()
    login(learner)
    resp = client.get("/dashboard/")
    assert b"Welcome to Lyceum, Lena!" in resp.data
    assert b"All notifications" in resp.data


def test_dashboard_sends_anonymous_visitors_to_log_in(client):
    resp = client.get("/dashboard/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/auth/login?next=%2Fdashboard%2F"


def test_uploaded_avatar_is_served_with_its_sniffed_type(client, learner):
    profile.set_avatar(learner, io.BytesIO(png()))
    db.session.commit()
    resp = client.get(f"/avatars/{learner.avatar_key}")
    assert resp.status_code == 200
    assert resp.mimetype == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.data == png()


@pytest.mark.parametrize("key", ["missing.png", "..secret", ".hidden.png", "x.exe", "a" * 5000 + ".png",
                                 "é" * 200 + ".png"])
def test_unknown_avatar_is_a_404_page(client, key):
    resp = client.get(f"/avatars/{key}")
    assert resp.status_code == 404
    assert b"<html" in resp.data


def test_healthz_reports_database_and_redis(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    # The suite runs jobs inline: no worker or clock is needed (tests/test_observability.py).
    assert resp.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok",
                                                    "worker": "inline", "clock": "inline"}}


@pytest.fixture(scope="module")
def app_without_redis(app):
    # The limiter is one object for every app in the process and keeps the storage of the
    # last app built, so the second app shares the session app's limiter storage.
    broken, teardown = build_app(REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=True,
                                 RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"])
    yield broken
    teardown()


def test_healthz_is_503_when_redis_is_unreachable(app_without_redis):
    resp = app_without_redis.test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.json["status"] == "degraded"
    assert resp.json["checks"]["database"] == "ok"
    assert resp.json["checks"]["redis"].startswith("error: ")


def test_pages_still_render_when_redis_is_unreachable(app_without_redis):
    resp = app_without_redis.test_client().get("/auth/login")
    assert resp.status_code == 200 and b"<html" in resp.data


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(client, login, learner):
    login(learner)
    for url in ("/learn/99999999999999999999", "/courses/99999999999999999999/preview",
                "/learn/posts/99999999999999999999/edit", "/checkout/orders/99999999999999999999/success"):
        method = client.post if url.endswith("/edit") else client.get
        assert method(url).status_code == 404, url
