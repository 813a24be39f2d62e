"""A learner takes a free course from enrolling to the certificate and a review; the
creator answers the learner's question and replies to the review. Every page is checked
with axe and photographed."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    alerts,
    check_a11y,
    expect_same_page,
    htmx_settled,
    make_user,
    mark_page,
    publish_course,
    screenshot,
    signed_in_page,
)

pytestmark = pytest.mark.e2e

QUESTION = "Which paper weight should I buy?"
ANSWER = "Start with 300 gsm cold-pressed paper: it does not buckle when wet."
REVIEW = "Friendly and clear. The quiz made me go back and re-read, which helped."
REPLY = "Thank you, Lena! Section 3 is coming next month."


def test_learner_completes_a_free_course_and_the_creator_answers(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "clara", "Clara Creator")
    reviewer_email = make_user(app, "rita", "Rita Reviewer", "review_courses")
    learner_email = make_user(app, "lena", "Lena Learner")
    course = publish_course(app, creator_email, reviewer_email, title="Watercolour skies",
                            subtitle="Washes, gradients and clouds", category="design")
    welcome, reading, quiz = course["lessons"]

    # --- enroll and learn ----------------------------------------------------------------
    page = signed_in_page(new_context, learner_email, "Lena Learner")
    page.goto(f"/courses/{course['slug']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Watercolour skies")
    check_a11y(page, "learning-01-course-page")
    page.get_by_role("button", name="Enroll for free").click()
    expect(alerts(page)).to_have_text("You are enrolled in “Watercolour skies”. Enjoy!")
    expect(page.get_by_role("heading", level=1)).to_have_text(welcome)
    syllabus = page.get_by_role("navigation", name="Course syllabus")
    expect(syllabus.get_by_role("progressbar", name="Course progress")).to_have_attribute("value", "0")
    expect(page.locator("video.lesson-video")).to_be_visible()
    check_a11y(page, "learning-02-player-video")

    page.get_by_role("button", name="Mark complete and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reading)
    expect(page.locator(".lesson-content .prose strong")).to_have_text("small")
    expect(syllabus.get_by_role("link", name=f"{welcome} (done)")).to_be_visible()
    expect(syllabus).to_contain_text("33% complete")
    check_a11y(page, "learning-03-player-text")
    page.get_by_role("button", name="Mark complete and continue").click()

    # The quiz: a wrong answer first (graded on the server, explained), then the right one.
    expect(page.get_by_role("heading", level=1)).to_have_text(quiz)
    expect(syllabus).to_contain_text("66% complete")
    check_a11y(page, "learning-04-quiz")
    mark_page(page)
    question = page.get_by_role("group", name="1. Where do you start?")
    question.get_by_label("A wrong answer").check()
    page.get_by_role("button", name="Submit answers").click()
    result = page.locator("#lesson_panel").get_by_role("status")
    expect(result).to_contain_text("0% — 0 of 1 right.")
    expect(result).to_contain_text("Not quite")
    expect(question).to_contain_text("Not right. Small steps keep you moving.")
    expect(question.locator(".tag-ok")).to_have_text("correct answer")  # shown once submitted
    check_a11y(page, "learning-05-quiz-failed")
    htmx_settled(page)
    question.get_by_label("The right answer").check()
    page.get_by_role("button", name="Try again").click()
    expect(result).to_contain_text("100% — 1 of 1 right.")
    expect(result).to_contain_text("You passed!")
    expect(page.locator("#lesson_panel")).to_contain_text("You completed this course")
    # The syllabus (outside the swapped panel) follows: every lesson ticked, 100%.
    expect(syllabus).to_contain_text("100% complete")
    expect(syllabus.locator("li.done")).to_have_count(3)
    expect_same_page(page)  # graded in place, by htmx
    check_a11y(page, "learning-06-quiz-passed")

    page.get_by_role("link", name="See your certificate").click()
    expect(page).to_have_url(re.compile(r"/certificates/[\w-]+$"))
    certificate = page.get_by_role("article")
    expect(certificate.get_by_role("heading", level=1)).to_have_text("Certificate of completion")
    expect(certificate.locator(".cert-name")).to_have_text("Lena Learner")
    expect(certificate.locator(".cert-course")).to_have_text("Watercolour skies")
    expect(certificate).to_contain_text("taught by Clara Creator")
    certificate_url = page.url
    check_a11y(page, "learning-07-certificate")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    card = page.locator(".learning-card").filter(has_text="Watercolour skies")
    expect(card.get_by_role("progressbar")).to_have_attribute("value", "100")
    expect(card.get_by_role("link", name="Certificate")).to_have_attribute("href", urlparse(certificate_url).path)
    check_a11y(page, "learning-08-dashboard")

    # --- a question for the creator, and a review ----------------------------------------------
    page.goto(f"/learn/{course['id']}")  # the player, where the learner left off
    syllabus.get_by_role("link", name="Discussions").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Discussions")
    check_a11y(page, "learning-09-discussions")
    page.get_by_label("Title").fill(QUESTION)
    page.get_by_label("About a lesson (optional)").select_option(label=f"2. {reading}")
    page.get_by_label("Your question (Markdown)").fill("The shop has **200 gsm** and 300 gsm.")
    page.get_by_role("button", name="Post question").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(page.get_by_text(f"Asked on “{reading}”")).to_be_visible()
    thread_url = page.url
    check_a11y(page, "learning-10-thread")

    page.goto(f"/learn/{course['id']}/reviews")
    page.get_by_label("4 stars").check()
    page.get_by_label("Your review (optional)").fill(REVIEW)
    check_a11y(page, "learning-11-review-form")
    page.get_by_role("button", name="Post review").click()
    expect(alerts(page)).to_have_text("Thanks for your review!")
    mine = page.locator("article.review").filter(has_text="Lena Learner")
    expect(mine).to_contain_text(REVIEW)
    expect(mine).to_contain_text("completed 100% of the course when writing")
    expect(mine.get_by_label("4 out of 5 stars")).to_be_visible()
    expect(page.get_by_role("heading", name="Edit your review")).to_be_visible()
    check_a11y(page, "learning-12-reviewed")

    # --- the creator answers and replies ---------------------------------------------------------
    creator = signed_in_page(new_context, creator_email, "Clara Creator")
    teaching = creator.get_by_role("row").filter(has=creator.get_by_role("link", name="Watercolour skies"))
    teaching.get_by_role("link", name="1").click()  # one open question
    creator.get_by_role("link", name=QUESTION).click()
    expect(creator).to_have_url(thread_url)
    creator.get_by_label("Your reply (Markdown)").fill(ANSWER)
    creator.get_by_role("button", name="Post reply").click()
    answer = creator.locator("ol.posts > li").filter(has_text=ANSWER)
    expect(answer).to_contain_text("Clara Creator")
    expect(answer.locator(".tag")).to_have_text("Creator")
    answer.get_by_role("button", name="Mark as answer").click()
    expect(answer.locator(".tag-ok")).to_have_text("Answer")
    expect(answer.get_by_role("button", name="Unmark answer")).to_be_visible()
    check_a11y(creator, "learning-13-creator-answers")

    creator.goto(f"/learn/{course['id']}/reviews")
    review = creator.locator("article.review").filter(has_text="Lena Learner")
    review.get_by_label("Reply as the creator (once)").fill(REPLY)
    check_a11y(creator, "learning-14-creator-reply-form")
    review.get_by_role("button", name="Post reply").click()
    expect(review.locator(".creator-reply")).to_have_text(f"Clara Creator (creator) replied: {REPLY}")
    expect(review.get_by_label("Reply as the creator (once)")).to_have_count(0)  # once only
    screenshot(creator, "learning-15-creator-replied")

    # --- the learner sees both ------------------------------------------------------------------------
    page.goto(thread_url)
    learner_view = page.locator("ol.posts > li.answer")
    expect(learner_view).to_contain_text(ANSWER)
    expect(page.get_by_role("button", name="Mark as answer")).to_have_count(0)  # the creator's call
    screenshot(page, "learning-16-learner-sees-answer")
    page.goto(f"/courses/{course['slug']}")
    expect(page.locator("#course_reviews .creator-reply")).to_contain_text(REPLY)
    expect(page.get_by_role("button", name="Continue learning")).to_be_visible()
    check_a11y(page, "learning-17-course-page-with-review")
