"""The analytics pages refresh themselves while open (issue 17, part 4): the figures block
re-reads the same URL (with its query string) when the stream says the figures changed, and
gets the figures block alone; a polite status line, outside the block, says so. Without
JavaScript the page is simply as it was loaded."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.support.pages import HX, assert_fragment, assert_page


class Elements(HTMLParser):
    """The attributes of every element with an id, and which ids sit inside which."""

    def __init__(self):
        super().__init__()
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.parents: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        ident = found.get("id")
        if ident:
            self.attrs[ident] = found
            self.parents[ident] = [i for _, i in self._open if i]
        if tag not in self.VOID:
            self._open.append((tag, ident))

    def handle_endtag(self, tag):
        for at in range(len(self._open) - 1, -1, -1):
            if self._open[at][0] == tag:
                del self._open[at:]
                return


def elements(resp) -> Elements:
    parsed = Elements()
    parsed.feed(resp.get_data(as_text=True))
    return parsed


@pytest.fixture
def finance_admin(make_user):
    return make_user(email="finance@example.test", display_name="Fiona Finance", permissions=("manage_finance",))


@pytest.mark.parametrize("url", ["/studio/analytics", "/studio/analytics?range=7d&by=day",
                                 "/studio/analytics?range=custom&from=2026-01-01&to=2026-01-31&by=week"])
def test_the_creators_figures_re_read_this_very_url_when_the_stream_says_so(client, login, creator, url):
    login(creator)
    resp = client.get(url)
    assert_page(resp)
    page = elements(resp)
    figures = page.attrs["analytics-figures"]
    assert figures["hx-get"] == (url if "?" in url else url + "?")  # the period and grain kept
    assert figures["hx-trigger"] == "lyceum:figures-changed"  # lyceum.js, on the stream's `analytics`
    assert (figures["hx-target"], figures["hx-swap"]) == ("this", "innerHTML")
    assert "data-live-figures" in figures
    assert figures["data-live-status"] == "analytics-live-status"


def test_a_courses_figures_re_read_the_courses_page(client, login, creator, make_course):
    course = make_course(creator, status="published")
    login(creator)
    url = f"/studio/courses/{course.id}/analytics?range=90d&by=month"
    figures = elements(client.get(url)).attrs["analytics-figures"]
    assert figures["hx-get"] == url


def test_the_admins_figures_re_read_the_admin_page(client, login, finance_admin):
    login(finance_admin)
    resp = client.get("/admin/analytics?range=12m&by=month")
    assert_page(resp)
    figures = elements(resp).attrs["analytics-figures"]
    assert figures["hx-get"] == "/admin/analytics?range=12m&by=month"
    assert figures["hx-trigger"] == "lyceum:figures-changed" and "data-live-figures" in figures


@pytest.mark.parametrize("url", ["/studio/analytics?range=7d", "/admin/analytics?range=7d"])
def test_the_status_line_is_polite_empty_and_outside_the_swapped_block(client, login, finance_admin, url):
    login(finance_admin)
    resp = client.get(url)
    page = elements(resp)
    status = page.attrs["analytics-live-status"]
    assert (status["role"], status["aria-live"], status["aria-atomic"]) == ("status", "polite", "true")
    assert "analytics-figures" not in page.parents["analytics-live-status"]  # survives each swap
    assert '<p id="analytics-live-status"' in resp.get_data(as_text=True)
    assert 'aria-atomic="true"></p>' in resp.get_data(as_text=True)  # says nothing until a refresh


@pytest.mark.parametrize("url", ["/studio/analytics?range=7d", "/admin/analytics?range=7d"])
def test_the_refresh_gets_the_figures_block_alone(client, login, finance_admin, url):
    login(finance_admin)
    resp = client.get(url, headers=HX)
    assert_fragment(resp, "")
    page = elements(resp)
    assert "analytics-figures" not in page.attrs  # the block's content, swapped into the div
    assert "analytics-live-status" not in page.attrs and "toasts" not in page.attrs


def test_the_query_string_is_escaped_in_the_attribute(client, login, creator):
    login(creator)
    resp = client.get('/studio/analytics?range="><script>x</script>')
    assert resp.status_code == 200
    assert "<script>x</script>" not in resp.get_data(as_text=True)
    assert elements(resp).attrs["analytics-figures"]["hx-get"].startswith("/studio/analytics?range=")


def test_every_signed_in_page_turns_the_streams_analytics_event_into_a_dom_event(client, login, learner):
    """layouts/base.html: the sse extension only listens for the events named on the element
    holding the stream; `hx-trigger="sse:analytics"` there dispatches `sse:analytics`, which
    bubbles to lyceum.js (the figures block is not inside that element)."""
    login(learner)
    toasts = elements(client.get("/dashboard/", follow_redirects=True)).attrs["toasts"]
    assert toasts["hx-trigger"] == "sse:analytics"
    assert toasts["sse-swap"] == "notification"  # the toasts are as they were


def test_a_stranger_cannot_read_a_courses_figures_by_refreshing(client, login, stranger, creator, make_course):
    course = make_course(creator, status="published")
    login(stranger)
    for headers in ({}, HX):
        resp = client.get(f"/studio/courses/{course.id}/analytics", headers=headers)
        assert resp.status_code in (403, 404)


def test_a_non_finance_admin_cannot_refresh_the_platforms_figures(client, login, moderator):
    login(moderator)
    assert client.get("/admin/analytics", headers=HX).status_code == 403
