"""Live analytics in Chromium (issue 17, part 4): while a creator (or a finance admin) has the
analytics page open, a change of their figures re-reads the figures block over the stream the
page already has, without a reload: same URL and period, focus left where it was, and a polite
"Figures updated at …" for screen readers.

The change is a real fact made through the services in the live server's database (an
enrolment; a sign-up): its rollup subscriber bumps the figures and announces the change
(`live.figures_changed`). The tests see the figure itself move, and that the block was
re-rendered by the server (a marker put into the old block is gone), with an open
"The numbers" disclosure still open afterwards."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from app.accounts.auth import sign_up
from app.accounts.queries import user_by_email
from app.analytics import live
from app.catalog.models import Course
from app.extensions import db
from app.learning.enrollment import enroll
from app.messaging import channels
from app.messaging.bus import bus
from tests.support.browser import check_a11y, make_user, publish_course, signed_in_page

pytestmark = pytest.mark.e2e

# Installed before any page script: note when the page's stream is open (events published
# before that would be missed) and that the window is the same one (no reload happened).
WATCH_STREAM = """
document.addEventListener("htmx:sseOpen", function (event) {
  if (event.target.id === "toasts") window.lyceumTestStreamOpen = true;
});
"""
MARK_OLD_BLOCK = """() => {
  window.lyceumTestSameWindow = true;
  document.getElementById("analytics-figures").insertAdjacentHTML("afterbegin", "<i data-test-stale></i>");
}"""


def open_live_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.lyceumTestStreamOpen === true")
    page.evaluate(MARK_OLD_BLOCK)


def stat_value(page, label: str):
    """The number of the headline figure named `label` (re-found after every refresh)."""
    return page.locator("#analytics-figures article.stat").filter(
        has=page.get_by_role("heading", name=label, exact=True)).locator(".stat-value")


def expect_refreshed(page, url: str, change) -> None:
    """`change()` makes the page re-read `url` (its figures block only) and swap it in."""
    status = page.locator("#analytics-live-status")
    expect(status).to_be_empty()

    def is_refresh(request) -> bool:
        return request.url.endswith(url) and request.headers.get("hx-request") == "true"

    with page.expect_request(is_refresh):
        change()
    expect(page.locator("#analytics-figures [data-test-stale]")).to_have_count(0)
    expect(status).to_contain_text("Figures updated at")
    # The figures block alone came back, not a page inside the page.
    expect(page.locator("#analytics-figures :is(#analytics-figures, .site-header, #toasts, h1)")).to_have_count(0)
    assert page.evaluate("() => window.lyceumTestSameWindow === true")  # no reload
    assert page.url.endswith(url)


def test_a_creators_figures_update_while_the_page_is_open(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "livia", "Livia Creator")
    reviewer_email = make_user(app, "rex", "Rex Reviewer", "review_courses")
    learner_email = make_user(app, "leo", "Leo Learner")
    course = publish_course(app, creator_email, reviewer_email, title="Live figures")

    page = signed_in_page(new_context, creator_email, "Livia Creator")
    page.add_init_script(WATCH_STREAM)
    url = "/studio/analytics?range=7d&by=day"
    open_live_page(page, url)
    chosen = page.get_by_label("Show by")
    chosen.focus()

    enrollments = stat_value(page, "New enrollments")
    expect(enrollments).to_have_text("0")
    numbers = page.locator("#learners details.chart-numbers")
    numbers.locator("summary").click()
    chosen.focus()

    def someone_enrolls() -> None:
        with app.app_context():
            enroll(user_by_email(learner_email), db.session.get(Course, course["id"]))
            db.session.commit()  # the learners subscriber bumps the day and tells the open pages

    expect_refreshed(page, url, someone_enrolls)
    expect(enrollments).to_have_text("1")
    expect(numbers).to_have_attribute("open", "")  # the reader's open disclosure stays open
    expect(chosen).to_be_focused()  # the refresh took no focus
    check_a11y(page, "analytics-live-01-creator-updated")



def test_a_finance_admins_platform_figures_update_while_the_page_is_open(live_server, new_context):
    app = live_server.app
    admin_email = make_user(app, "fiona", "Fiona Finance", "manage_finance")
    page = signed_in_page(new_context, admin_email, "Fiona Finance")
    page.add_init_script(WATCH_STREAM)
    url = "/admin/analytics?range=30d&by=week"
    open_live_page(page, url)

    new_learners = stat_value(page, "New learners")
    before = int(new_learners.inner_text().replace(",", ""))

    def someone_signs_up() -> None:
        with app.app_context():
            sign_up(email="nova@example.test", display_name="Nova Newcomer", password="a long new passphrase 42")
            db.session.commit()  # the platform subscriber counts the new learner and tells finance admins

    expect_refreshed(page, url, someone_signs_up)
    expect(new_learners).to_have_text(f"{before + 1:,}")
    check_a11y(page, "analytics-live-02-admin-updated")


def test_a_burst_of_changes_makes_one_re_read_at_once_and_one_after_it(live_server, new_context):
    app = live_server.app
    admin_email = make_user(app, "fred", "Fred Finance", "manage_finance")
    page = signed_in_page(new_context, admin_email, "Fred Finance")
    page.add_init_script(WATCH_STREAM)
    url = "/admin/analytics?range=7d&by=day"
    open_live_page(page, url)
    refreshes: list[float] = []
    page.on("request", lambda request: refreshes.append(time.monotonic())
            if request.url.endswith(url) and request.headers.get("hx-request") == "true" else None)

    with page.expect_request(lambda request: request.url.endswith(url)):
        for _ in range(5):  # five sales in a row: five messages on the stream
            with app.app_context():
                live.figures_changed(None)
                db.session.commit()
        burst_over = time.monotonic()
    page.wait_for_event("request", lambda request: request.url.endswith(url), timeout=10_000)
    assert len(refreshes) == 2  # not five
    assert refreshes[1] > burst_over  # the last one reads what the whole burst changed
    expect(page.locator("#analytics-figures [data-test-stale]")).to_have_count(0)


def test_a_reopened_stream_re_reads_the_figures(live_server, new_context):
    """Nothing is heard while a stream is down (Redis forgets what nobody heard): when the
    browser reopens it, the page re-reads its figures once."""
    app = live_server.app
    creator_email = make_user(app, "rhea", "Rhea Reconnect")
    page = signed_in_page(new_context, creator_email, "Rhea Reconnect")
    page.add_init_script(WATCH_STREAM)
    url = "/studio/analytics?range=30d&by=week"
    open_live_page(page, url)

    def stream_drops() -> None:  # the server ends it without a "closed for good": the browser reopens it
        with app.app_context():
            channel = channels.user_notify(user_by_email(creator_email).id)
            for sub in list(bus()._local.get(channel, ())):
                sub.put({"type": "bus.closed"})

    expect_refreshed(page, url, stream_drops)
