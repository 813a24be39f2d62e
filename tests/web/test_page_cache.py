"""Visitors' catalog pages are cached a few seconds; signed-in users' pages never are."""
import pytest

from app.extensions import get_redis, redis_key


@pytest.fixture
def page_cache(app):
    app.config["PAGE_CACHE_SECONDS"] = 30
    yield
    app.config["PAGE_CACHE_SECONDS"] = 0
    redis = get_redis()
    for key in redis.scan_iter(redis_key("page", "*")):
        redis.delete(key)


def test_a_visitor_gets_the_same_page_from_the_cache(client, page_cache):
    first = client.get("/courses/?q=cache-test-one")
    second = client.get("/courses/?q=cache-test-one")
    assert first.headers["X-Cache"] == "miss" and second.headers["X-Cache"] == "hit"
    assert first.data == second.data
    assert second.headers["Cache-Control"] == "public, max-age=30"
    assert "HX-Request" in second.headers["Vary"]


def test_the_fragment_and_the_full_page_are_cached_apart(client, htmx, page_cache):
    client.get("/courses/?q=cache-test-two")
    fragment = htmx.get("/courses/?q=cache-test-two")
    assert fragment.headers["X-Cache"] == "miss" and b"<html" not in fragment.data


def test_a_cached_page_carries_no_csrf_token(client, page_cache):
    page = client.get("/courses/?q=cache-test-three")
    assert b"X-CSRFToken" not in page.data and b"csrf_token" not in page.data


def test_signed_in_users_always_get_a_fresh_page(client, login, learner, page_cache):
    login(learner)
    client.get("/courses/?q=cache-test-four")
    again = client.get("/courses/?q=cache-test-four")
    assert "X-Cache" not in again.headers
    assert learner.display_name.encode() in again.data


def test_a_visitor_with_a_flashed_message_is_not_served_from_the_cache(client, page_cache):
    client.get("/courses/?q=cache-test-five")
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "You are logged out.")]
    page = client.get("/courses/?q=cache-test-five")
    assert "X-Cache" not in page.headers and b"You are logged out." in page.data
