"""A live notification in Chromium: it arrives on an open page as a toast (over SSE, htmx's
`sse` extension), updates the unread badge, does not take the focus, and is dismissed by
keyboard."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.accounts.queries import user_by_email
from app.extensions import db
from app.messaging.notifications import notify
from tests.support.browser import check_a11y, make_user, signed_in_page

pytestmark = pytest.mark.e2e


def send(app, email: str, name: str) -> int:
    with app.app_context():
        note = notify(user_by_email(email), "welcome", name=name)
        db.session.commit()
        return note.id


def test_live_notification_toast(live_server, new_context):
    email = make_user(live_server.app, "toast", "Tess Toast")
    page = signed_in_page(new_context, email, "Tess Toast")
    badge = page.locator("#unread-badge")
    before = badge.inner_text()  # the sign-up welcome may already be unread

    page.locator("#site-search-q").focus()
    note_id = send(live_server.app, email, "Tess")
    toast = page.locator("#toasts .toast").first
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Welcome to Lyceum, Tess!")
    expect(badge).not_to_have_text(before)
    assert page.evaluate("() => document.activeElement.id") == "site-search-q"  # focus stays
    check_a11y(page, "toast-01-live")
    # Should the sse extension have to reopen the stream, it starts after this one.
    expect(page.locator("#toasts")).to_have_attribute(
        "sse-connect", f"/notifications/stream?after={note_id}")

    assert toast.evaluate("e => getComputedStyle(e).animationDuration") == "10s"  # then it fades
    close = toast.get_by_role("button", name="Dismiss: Welcome")
    close.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#toasts .toast")).to_have_count(0)
    assert page.evaluate("() => document.activeElement.id") == "main"  # focus is not lost
