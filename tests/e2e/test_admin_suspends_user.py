"""An admin suspends a signed-in user: the user's session ends at their next request and
logging in again shows why."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.accounts import auth, roles
from app.extensions import db
from tests.support.browser import PASSWORD, alerts, check_a11y, expect_dashboard, log_in, unique_email

pytestmark = pytest.mark.e2e

REASON = "Repeated spam in course discussions."


def test_admin_suspends_a_signed_in_user(live_server, new_context):
    admin_email, user_email = unique_email("ada"), unique_email("uli")
    with live_server.app.app_context():
        admin = auth.sign_up(email=admin_email, display_name="Ada Admin", password=PASSWORD)
        roles.grant_permission(None, admin, "superuser", system=True)
        auth.sign_up(email=user_email, display_name="Uli User", password=PASSWORD)
        db.session.commit()

    user_page = new_context().new_page()
    user_page.goto("/auth/login")
    log_in(user_page, user_email)
    expect_dashboard(user_page, "Uli User")

    admin_page = new_context().new_page()
    admin_page.goto("/auth/login")
    log_in(admin_page, admin_email)
    expect_dashboard(admin_page, "Ada Admin")
    admin_page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Admin")
    check_a11y(admin_page, "admin-01-index")

    admin_page.get_by_role("link", name="Users").click()
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Users")
    admin_page.get_by_label("Search by name or e-mail").fill(user_email)
    admin_page.get_by_role("main").get_by_role("button", name="Search").click()
    rows = admin_page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(user_email)
    expect(rows.first).to_contain_text("Active")
    check_a11y(admin_page, "admin-02-user-search")

    rows.first.get_by_role("link", name="Uli User").click()
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Uli User")
    check_a11y(admin_page, "admin-03-user-detail")
    admin_page.get_by_role("button", name="Suspend").click()  # without a reason: refused
    expect(admin_page.get_by_label("Reason (the user sees it)")).to_have_attribute("aria-invalid", "true")
    check_a11y(admin_page, "admin-04-suspend-needs-reason")
    admin_page.get_by_label("Reason (the user sees it)").fill(REASON)
    admin_page.get_by_role("button", name="Suspend").click()
    expect(alerts(admin_page)).to_have_text("Uli User is suspended.")
    expect(admin_page.locator("dl.facts")).to_contain_text(f"Suspended: {REASON}")
    expect(admin_page.get_by_role("button", name="Reinstate Uli User")).to_be_visible()
    check_a11y(admin_page, "admin-05-user-suspended")

    admin_page.goto("/admin/audit")
    expect(admin_page.locator("#results tbody tr").first).to_contain_text("user.suspended")
    check_a11y(admin_page, "admin-06-audit-log")

    # The user's next page load: logged out, sent to the log-in page.
    user_page.reload()
    expect(user_page).to_have_url(re.compile(r"/auth/login\?next="))
    expect(alerts(user_page)).to_have_text("Please log in to continue.")
    expect(user_page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    log_in(user_page, user_email)
    expect(user_page.get_by_role("alert")).to_have_text(f"Your account is suspended: {REASON}")
    expect(user_page).to_have_url(re.compile(r"/auth/login"))
    check_a11y(user_page, "admin-07-suspended-user-login")
