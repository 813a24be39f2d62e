"""An anonymous visitor finds a course: a search with a typo, filters, a sort (htmx swaps the
results and the URL follows, the back button too), the course page, a free preview, and
the sign-in that enrolling asks for. Then the same search without JavaScript."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.accounts.queries import user_by_email
from app.catalog.queries import get_course
from app.discovery.search import refresh_search_terms
from app.extensions import db
from app.learning import enrollment, reviews
from tests.support.browser import (
    alerts,
    check_a11y,
    expect_same_page,
    log_in,
    make_user,
    mark_page,
    publish_course,
    screenshot,
)

pytestmark = pytest.mark.e2e

BASICS = "Python basics for data work"
CHARTS = "Charts with Python"
SCRAPING = "Python web scraping"
GAMES = "Python games for kids"


@pytest.fixture(scope="module")
def catalog(live_server):
    """Four published Python courses by one creator; rated by two learners each: the
    charts course 5 stars, the basics course 3. The search vocabulary is rebuilt so the
    typo can be corrected (the discovery job does this in production)."""

    app = live_server.app
    creator = make_user(app, "dana", "Dana Developer")
    reviewer = make_user(app, "rita", "Rita Reviewer", "review_courses")
    visitor = make_user(app, "vic", "Vic Visitor")
    learners = [make_user(app, f"l{n}", f"Learner {n}") for n in (1, 2)]
    courses = {
        BASICS: publish_course(app, creator, reviewer, title=BASICS, category="data-science",
                               subtitle="Python step by step, with Python notebooks"),
        CHARTS: publish_course(app, creator, reviewer, title=CHARTS, category="data-science",
                               subtitle="Plots that tell a story"),
        SCRAPING: publish_course(app, creator, reviewer, title=SCRAPING, category="data-science",
                                 subtitle="Collect data from the web", price_minor=1999),
        GAMES: publish_course(app, creator, reviewer, title=GAMES, category="development",
                              subtitle="Build three small games"),
    }
    with app.app_context():
        for email in learners:
            learner = user_by_email(email)
            for title, stars in ((BASICS, 3), (CHARTS, 5)):
                course = get_course(courses[title]["id"])
                enrollment.enroll(learner, course, source="free")
                reviews.write_review(learner, course, rating=stars, body="")
        refresh_search_terms()
        db.session.commit()
    return {"courses": courses, "visitor": visitor}


def result_titles(page: Page):
    return page.locator("#results .course-card .card-title")


def test_visitor_searches_filters_sorts_previews_and_is_asked_to_sign_in(catalog, page):
    charts = catalog["courses"][CHARTS]

    page.goto("/")
    page.get_by_role("searchbox", name="Search courses").fill("pyhton")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/courses/\?q=pyhton$"))
    expect(page.get_by_role("heading", name="4 courses for “python”")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("No course matched “pyhton”, so we show results for “python”.")
    expect(result_titles(page)).to_have_count(4)
    check_a11y(page, "discovery-01-search-typo")
    relevance = result_titles(page).all_inner_texts()
    mark_page(page)

    # Filters and the sort: htmx swaps the results, the URL follows.
    filters = page.locator("#filters")
    filters.get_by_role("radio", name=re.compile(r"^Free")).check()
    expect(page).to_have_url(re.compile(r"[?&]price=free(&|$)"))
    expect(page.get_by_role("heading", name="3 courses for “python”")).to_be_visible()
    expect(result_titles(page)).not_to_contain_text([SCRAPING])
    filters.get_by_role("radio", name=re.compile(r"^Data Science")).check()
    expect(page).to_have_url(re.compile(r"[?&]category=data-science(&|$)"))
    expect(result_titles(page)).to_have_text([t for t in relevance if t in (BASICS, CHARTS)])
    expect(page.locator(".active-filters")).to_contain_text("Free")
    check_a11y(page, "discovery-02-filtered")
    filtered_url = page.url

    filters.get_by_label("Sort by").select_option(label="Highest rated")
    expect(page).to_have_url(re.compile(r"[?&]sort=rating(&|$)"))
    expect(result_titles(page)).to_have_text([CHARTS, BASICS])  # 5 stars before 3
    expect(page.locator("#results .course-card").first).to_contain_text("5.0")
    expect_same_page(page)
    check_a11y(page, "discovery-03-sorted-by-rating")

    # Back: the previous results and the form as it was.
    page.go_back()
    expect(page).to_have_url(filtered_url)
    expect(result_titles(page)).to_have_text([t for t in relevance if t in (BASICS, CHARTS)])
    expect(filters.get_by_label("Sort by")).to_have_value("relevance")
    expect(filters.get_by_role("radio", name=re.compile(r"^Free"))).to_be_checked()
    expect(filters.get_by_role("radio", name=re.compile(r"^Data Science"))).to_be_checked()
    screenshot(page, "discovery-04-back")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"[?&]sort=rating(&|$)"))
    expect(result_titles(page)).to_have_text([CHARTS, BASICS])
    expect(filters.get_by_label("Sort by")).to_have_value("rating")

    # The course page, and a free preview that plays.
    page.locator("#results").get_by_role("link", name=CHARTS).click()
    expect(page).to_have_url(re.compile(rf"/courses/{charts['slug']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CHARTS)
    expect(page.locator(".buy-box")).to_contain_text("Free")
    check_a11y(page, "discovery-05-course-page")
    page.get_by_role("link", name="Welcome").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    video = page.locator("video.lesson-video")
    expect(video).to_be_visible()
    played = video.evaluate("""async v => {
        v.muted = true;  // autoplay without a click is allowed only muted
        await v.play();
        await new Promise(done => v.addEventListener("timeupdate", function tick() {
            if (v.currentTime > 0.5) { v.removeEventListener("timeupdate", tick); done(); }
        }));
        v.pause();
        return {time: v.currentTime, duration: v.duration};
    }""")
    assert played["time"] > 0.5 and 1.5 < played["duration"] < 3
    expect(page.get_by_role("button", name=re.compile(r"^Mark complete"))).to_have_count(0)  # not enrolled
    expect(page.locator("#lesson_panel")).to_contain_text(f"This lesson is a free preview of “{CHARTS}”.")
    syllabus = page.get_by_role("navigation", name="Course syllabus")
    expect(syllabus.get_by_role("link", name="First principles")).to_have_count(0)  # not open to visitors
    expect(syllabus).to_contain_text("First principles Text · 5 min · after enrolling")
    check_a11y(page, "discovery-06-free-preview")

    # Enrolling asks the visitor to sign in, then brings them back to the course.
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(CHARTS)
    page.get_by_role("button", name="Log in to enroll").click()
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    check_a11y(page, "discovery-07-log-in-to-enroll")
    log_in(page, catalog["visitor"])
    expect(page).to_have_url(re.compile(rf"/courses/{charts['slug']}$"))
    page.get_by_role("button", name="Enroll for free").click()
    expect(alerts(page)).to_have_text(f"You are enrolled in “{CHARTS}”. Enjoy!")


def test_the_same_search_without_javascript(catalog, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/courses/?q=pyhton")
    expect(page.locator("#results")).to_contain_text("so we show results for “python”")
    filters = page.locator("#filters")
    filters.get_by_role("radio", name=re.compile(r"^Free")).check()
    filters.get_by_role("radio", name=re.compile(r"^Data Science")).check()
    filters.get_by_label("Sort by").select_option(label="Highest rated")
    filters.get_by_role("button", name="Show courses").click()
    expect(page).to_have_url(re.compile(r"price=free.*category=data-science|category=data-science.*price=free"))
    expect(result_titles(page)).to_have_text([CHARTS, BASICS])
    screenshot(page, "discovery-nojs-01-filtered")
    page.locator(".active-filters").get_by_role("link", name="Data Science (remove)").click()
    expect(result_titles(page)).to_have_count(3)
    expect(page).not_to_have_url(re.compile("category="))
    screenshot(page, "discovery-nojs-02-filter-removed")
