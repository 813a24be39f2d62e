"""A new learner's first visit: sign up and confirm by the mailed link, log out, log in,
edit the profile, read the welcome notification. Every page is checked with axe and photographed."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    PASSWORD,
    alerts,
    check_a11y,
    expect_dashboard,
    finish_sign_up,
    log_in,
    log_out,
    open_account_menu,
    screenshot,
    unique_email,
)

pytestmark = pytest.mark.e2e

# The header link's accessible name: "Notifications" and the badge's "1 unread".
ONE_UNREAD = re.compile(r"^Notifications\W*1 unread$")


def sign_up(page, name: str, email: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign up").click()


def test_sign_up_log_in_edit_profile_and_read_the_welcome_notification(page, live_server):
    email = unique_email("lena")

    page.goto("/")
    check_a11y(page, "accounts-01-home")
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/auth/signup$"))
    check_a11y(page, "accounts-02-signup")

    sign_up(page, "Lena Learner", email)
    expect(page.get_by_role("heading", name="Check your e-mail to finish signing up")).to_be_visible()
    check_a11y(page, "accounts-02b-check-mail")
    finish_sign_up(page, live_server.app, email)
    expect_dashboard(page, "Lena Learner")
    expect(alerts(page)).to_have_text("Welcome to Lyceum, Lena Learner!")
    check_a11y(page, "accounts-03-dashboard")

    log_out(page)
    expect(page).to_have_url(re.compile(r"/$"))
    check_a11y(page, "accounts-04-logged-out")

    page.get_by_role("link", name="Log in", exact=True).click()
    check_a11y(page, "accounts-05-login")
    log_in(page, email, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    check_a11y(page, "accounts-06-login-error")
    log_in(page, email)
    expect_dashboard(page, "Lena Learner")

    open_account_menu(page)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    check_a11y(page, "accounts-07-settings")
    page.get_by_label("Name", exact=True).fill("Lena Lovelace")
    page.get_by_label("Headline").fill("Data engineer, teaches SQL")
    page.get_by_role("button", name="Save profile").click()
    expect(alerts(page)).to_have_text("Profile saved.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Lena Lovelace")
    expect(page.get_by_label("Headline")).to_have_value("Data engineer, teaches SQL")
    expect(page.locator("details.account-menu summary")).to_have_text("Lena Lovelace")

    # The welcome notification is unread: the header says so, to eyes and to screen readers.
    badge = page.locator("#unread-badge")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    notifications_link = page.get_by_role("link", name=ONE_UNREAD)
    expect(notifications_link).to_be_visible()
    check_a11y(page, "accounts-08-settings-saved")

    notifications_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.locator("ul.notifications > li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Welcome to Lyceum, Lena Learner!")
    expect(items.first).to_have_class(re.compile(r"\bunread\b"))
    check_a11y(page, "accounts-09-notifications")

    page.get_by_role("button", name="Mark all as read").click()
    expect(badge).to_be_hidden()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(items.first).not_to_have_class(re.compile(r"\bunread\b"))
    expect(page.get_by_role("button", name="Mark as read")).to_have_count(0)
    check_a11y(page, "accounts-10-notifications-read")

    page.reload()  # read on the server, not only on the screen
    expect(badge).to_be_hidden()
    expect(page.locator("ul.notifications > li.unread")).to_have_count(0)


def test_sign_up_log_out_and_log_in_without_javascript(new_context, live_server):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    email = unique_email("nojs")

    page.goto("/auth/signup")
    sign_up(page, "Noah Nojs", email)
    finish_sign_up(page, live_server.app, email)
    expect_dashboard(page, "Noah Nojs")
    expect(alerts(page)).to_have_text("Welcome to Lyceum, Noah Nojs!")
    expect(page.get_by_role("link", name=ONE_UNREAD)).to_be_visible()
    screenshot(page, "nojs-01-dashboard")

    log_out(page)
    screenshot(page, "nojs-02-logged-out")

    page.get_by_role("link", name="Log in", exact=True).click()
    log_in(page, email)
    expect_dashboard(page, "Noah Nojs")

    # Mark all as read is an htmx form that also works as a plain POST.
    page.get_by_role("link", name=ONE_UNREAD).click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.locator("#unread-badge")).to_be_hidden()
    expect(page.locator("ul.notifications > li.unread")).to_have_count(0)
    screenshot(page, "nojs-03-notifications-read")
