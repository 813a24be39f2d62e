"""Visitors' catalog pages are cached a few seconds; signed-in users' pages never are."""
import uuid

import pytest

from app.blueprints import caching
from app.blueprints.caching import LocalPages, local_pages
from app.discovery.search import QUERY_ARGS, parse_query
from app.extensions import get_redis, redis_key


@pytest.fixture
def page_cache(app):
    app.config["PAGE_CACHE_SECONDS"] = 30
    yield
    app.config["PAGE_CACHE_SECONDS"] = 0
    forget_everywhere()


def forget_everywhere(memory=True):
    """Drop the cached pages from Redis (as if they expired there) and, by default, from this
    process's memory (as if another process asked)."""
    redis = get_redis()
    for key in redis.scan_iter(redis_key("page", "*")):
        redis.delete(key)
    if memory:
        local_pages().clear()


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


def test_another_process_serves_the_page_from_redis_and_keeps_it(client, page_cache):
    first = client.get("/courses/?q=cache-test-six")
    local_pages().clear()  # a process that did not render it
    second = client.get("/courses/?q=cache-test-six")
    forget_everywhere(memory=False)  # now only in that process's memory
    third = client.get("/courses/?q=cache-test-six")
    assert [r.headers["X-Cache"] for r in (first, second, third)] == ["miss", "hit", "hit"]
    assert first.data == second.data == third.data


def test_no_copy_outlives_its_time_in_redis(client, page_cache, monkeypatch):
    client.get("/courses/?q=cache-test-seven")
    later = caching.clock() + 31
    monkeypatch.setattr(caching, "clock", lambda: later)
    assert client.get("/courses/?q=cache-test-seven").headers["X-Cache"] == "miss"


def test_a_value_in_redis_not_written_by_the_cache_is_ignored(client, page_cache):
    first = client.get("/courses/?q=cache-test-eight")
    key = next(get_redis().scan_iter(redis_key("page", "*")))
    get_redis().set(key, b"<p>not ours</p>")
    local_pages().clear()
    again = client.get("/courses/?q=cache-test-eight")
    assert again.headers["X-Cache"] == "miss" and again.data == first.data


def test_the_memory_keeps_the_newest_pages_and_only_until_they_expire():
    pages = LocalPages(2)
    pages.put("a", 100.0, b"A")
    pages.put("b", 100.0, b"B")
    pages.put("c", 50.0, b"C")  # full: the oldest ("a") goes
    assert [pages.get(key, now=10.0) for key in "abc"] == [None, b"B", b"C"]
    assert pages.get("c", now=50.0) is None and pages.get("b", now=99.9) == b"B"
    none = LocalPages(0)
    none.put("a", 100.0, b"A")
    assert none.get("a", now=0.0) is None


def cached_keys() -> set[bytes]:
    return set(get_redis().scan_iter(redis_key("page", "*")))


def test_arguments_the_catalog_does_not_read_make_no_new_entry(client, page_cache):
    first = client.get("/courses/?q=cache-test-nine")
    for n in range(1000):
        page = client.get(f"/courses/?q=cache-test-nine&pad={n}-{uuid.uuid4().hex}&utm_{n}=x")
        assert page.headers["X-Cache"] == "hit" and page.data == first.data
    assert len(cached_keys()) == 1 and len(local_pages()) == 1


def test_the_same_arguments_in_another_order_are_the_same_entry(client, page_cache):
    client.get("/courses/?q=cache-test-ten&sort=newest&level=beginner&page=1")
    again = client.get("/courses/?page=1&level=beginner&sort=newest&q=cache-test-ten&level=expert")
    assert again.headers["X-Cache"] == "hit" and len(cached_keys()) == 1


def test_an_argument_the_catalog_reads_changes_the_entry(client, page_cache):
    client.get("/courses/?q=cache-test-eleven")
    other = client.get("/courses/?q=cache-test-eleven&sort=newest")
    assert other.headers["X-Cache"] == "miss" and len(cached_keys()) == 2


def test_a_category_page_ignores_a_category_argument(client, page_cache, make_course):
    slug = make_course(status="published").category.slug
    client.get(f"/courses/categories/{slug}?q=cache-test-twelve")
    again = client.get(f"/courses/categories/{slug}?q=cache-test-twelve&category={uuid.uuid4().hex}")
    assert again.headers["X-Cache"] == "hit" and len(cached_keys()) == 1


def test_the_catalog_reads_no_argument_outside_its_list():
    class Recording(dict):
        read: set[str] = set()

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.read.add(key)
            return super().__getitem__(key)

    args = Recording(q="x", price="free", min_price="1", max_price="2", min_rating="3",
                     creator="4", level="beginner", language="en", sort="newest", page="2")
    parse_query(args)
    assert Recording.read == set(QUERY_ARGS)
