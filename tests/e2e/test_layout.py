"""The layout on a phone, for a visitor whose system prefers dark mode: the site keeps its
light theme (our colours are light), stays readable and never scrolls sideways."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts import auth
from app.extensions import db
from tests.support.browser import PASSWORD, check_a11y, expect_dashboard, log_in, screenshot, unique_email

pytestmark = pytest.mark.e2e


def assert_fits_the_viewport(page):
    # Compared with the phone's width, not window.innerWidth: a mobile browser widens its
    # layout viewport to whatever overflows, so innerWidth would always match.
    overflow = page.evaluate("() => document.documentElement.scrollWidth") - page.viewport_size["width"]
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px on a phone"


def test_phone_with_dark_preference(live_server, new_context):
    email = unique_email("phone")
    with live_server.app.app_context():
        auth.sign_up(email=email, display_name="Priya Phone", password=PASSWORD)
        db.session.commit()
    context = new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                          has_touch=True, color_scheme="dark")
    page = context.new_page()

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    check_a11y(page, "phone-01-home")
    assert_fits_the_viewport(page)

    page.goto("/auth/login")
    log_in(page, email)
    expect_dashboard(page, "Priya Phone")
    check_a11y(page, "phone-02-dashboard")
    assert_fits_the_viewport(page)

    for path, name in [("/notifications/", "phone-03-notifications"),
                       ("/auth/settings", "phone-04-settings")]:
        page.goto(path)
        screenshot(page, name)  # axe already checked these pages in the desktop journey
        assert_fits_the_viewport(page)
