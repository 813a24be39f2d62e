"""A learner and the course's creator, in two browsers, chat live in the course room, write
privately with a read receipt, and see notifications arrive as toasts — over the real
WebSocket and event streams of the live server. Without JavaScript the same pages work as
forms that post and redirect."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import check_a11y, make_user, publish_course, screenshot, signed_in_page

pytestmark = pytest.mark.e2e


def _enroll(page, slug: str) -> None:
    page.goto(f"/courses/{slug}")
    page.get_by_role("button", name="Enroll for free").click()
    expect(page.locator("#alerts")).to_contain_text("You are enrolled")


def _unread(page) -> int:
    found = re.search(r"(\d+) unread", page.locator("#unread-badge").text_content() or "")
    return int(found.group(1)) if found else 0


def _open_room(page, course_id: int) -> None:
    page.goto(f"/chat/courses/{course_id}")
    expect(page.locator(".chat-status")).to_have_text("Live")  # the socket is open


def test_learner_and_creator_chat_message_privately_and_get_toasts(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "carl", "Carl Creator")
    reviewer_email = make_user(app, "rita", "Rita Reviewer", "review_courses")
    learner_email = make_user(app, "lena", "Lena Learner")
    course = publish_course(app, creator_email, reviewer_email, title="Live pottery",
                            subtitle="Throwing, trimming and glazing", category="design")
    learner = signed_in_page(new_context, learner_email, "Lena Learner")
    creator = signed_in_page(new_context, creator_email, "Carl Creator")
    _enroll(learner, course["slug"])

    # --- the course room, live both ways -------------------------------------------------
    _open_room(learner, course["id"])
    _open_room(creator, course["id"])
    expect(creator.locator("#online")).to_contain_text("Lena Learner")
    unread_before = _unread(creator)
    learner.get_by_label("Your message").fill("Hello @CarlCreator, is the kiln **ready**? <b>x</b>")
    learner.get_by_role("button", name="Send").click()
    expect(creator.locator("#chat-log")).to_contain_text("is the kiln **ready**? <b>x</b>")  # inert text
    expect(learner.get_by_label("Your message")).to_have_value("")
    # The mention reaches the creator as a live toast and the unread badge.
    toast = creator.locator("#toasts .toast").first
    expect(toast).to_contain_text("mentioned you")
    expect(creator.locator("#unread-badge")).to_contain_text(f"{unread_before + 1} unread")
    check_a11y(creator, "realtime-01-room-creator-with-toast")
    creator.get_by_label("Your message").fill("Yes, it is warming up. See https://example.com/kiln")
    creator.get_by_role("button", name="Send").click()
    reply = learner.locator("#chat-log").get_by_text("Yes, it is warming up.")
    expect(reply).to_be_visible()
    expect(learner.locator("#chat-log a[href='https://example.com/kiln']")).to_have_count(1)
    check_a11y(learner, "realtime-02-room-learner")

    # --- a direct message with a live read receipt ---------------------------------------
    learner.goto(f"/courses/{course['slug']}")
    learner.get_by_role("button", name=re.compile("Message the creator")).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Carl Creator")
    learner.get_by_label("Message to Carl Creator").fill("Can I book the wheel on Friday?")
    learner.get_by_role("button", name="Send").click()
    sent = learner.locator(".dm-log li").filter(has_text="Can I book the wheel on Friday?")
    expect(sent).to_contain_text("Sent")
    check_a11y(learner, "realtime-03-dm-sent")
    # The creator, still in the room, gets a toast linking to the conversation.
    dm_toast = creator.locator("#toasts .toast").filter(has_text="sent you a message")
    expect(dm_toast).to_contain_text("Can I book the wheel on Friday?")
    expect(creator.locator("#dm-badge")).to_contain_text("1")
    dm_toast.get_by_role("link").click()
    expect(creator.get_by_role("heading", level=1)).to_have_text("Lena Learner")
    expect(creator.locator(".dm-log")).to_contain_text("Can I book the wheel on Friday?")
    # Reading it flips the learner's receipt to "Seen" without a reload.
    expect(sent).to_contain_text("Seen")
    check_a11y(creator, "realtime-04-dm-read")
    creator.get_by_label("Message to Lena Learner").fill("Friday works. Bring an apron.")
    creator.get_by_role("button", name="Send").click()
    expect(learner.locator(".dm-log")).to_contain_text("Friday works. Bring an apron.")


def test_without_javascript_chat_and_messages_are_forms(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "nora", "Nora Creator")
    reviewer_email = make_user(app, "rex", "Rex Reviewer", "review_courses")
    learner_email = make_user(app, "noel", "Noel Learner")
    course = publish_course(app, creator_email, reviewer_email, title="Quiet bookbinding",
                            category="design")
    learner = signed_in_page(new_context, learner_email, "Noel Learner", java_script_enabled=False)
    _enroll(learner, course["slug"])
    learner.goto(f"/chat/courses/{course['id']}")
    learner.get_by_label("Your message").fill("Does anyone have spare linen thread?")
    learner.get_by_role("button", name="Send").click()
    expect(learner).to_have_url(re.compile(rf"/chat/courses/{course['id']}"))
    expect(learner.locator("#chat-log")).to_contain_text("Does anyone have spare linen thread?")
    screenshot(learner, "realtime-05-room-no-js")

    learner.goto(f"/courses/{course['slug']}")
    learner.get_by_role("button", name=re.compile("Message the creator")).click()
    learner.get_by_label("Message to Nora Creator").fill("Is the class on Saturday?")
    learner.get_by_role("button", name="Send").click()
    expect(learner.locator(".dm-log")).to_contain_text("Is the class on Saturday?")
    learner.goto("/notifications/")
    expect(learner.get_by_role("heading", level=1)).to_have_text("Notifications")
    screenshot(learner, "realtime-06-dm-no-js")
