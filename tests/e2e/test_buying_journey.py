"""A learner buys a course through the local payment gateway (the same signed events as
Stripe, through the same webhook code) and finishes it; the creator sees the sale in escrow,
then available once the learner completes, connects PayPal and withdraws. Every page is
checked with axe and photographed."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import alerts, check_a11y, make_user, open_account_menu, publish_course, signed_in_page

pytestmark = pytest.mark.e2e

TITLE = "Bookkeeping for freelancers"


def balance(page: Page, label: str):
    return page.get_by_role("region", name="Balances").locator("article").filter(
        has=page.get_by_role("heading", name=label, exact=True)).locator(".price")


def expect_balances(page: Page, **figures: str) -> None:
    names = {"available": "Available", "escrow": "In escrow", "in_flight": "On the way",
             "paid_out": "Paid out"}
    for key, value in figures.items():
        expect(balance(page, names[key])).to_have_text(value)


def finish_course(page: Page) -> None:
    """Mark the two lessons done and pass the quiz, through the player."""
    page.get_by_role("button", name="Mark complete and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First principles")
    page.get_by_role("button", name="Mark complete and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check yourself")
    page.get_by_label("The right answer").check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#lesson_panel")).to_contain_text("You completed this course")


def test_learner_buys_a_course_and_the_creator_is_paid(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "cora", "Cora Creator")
    reviewer_email = make_user(app, "rita", "Rita Reviewer", "review_courses")
    buyer_email = make_user(app, "ben", "Ben Buyer")
    course = publish_course(app, creator_email, reviewer_email, title=TITLE, category="business",
                            subtitle="Invoices, expenses and taxes without tears", price_minor=4000)

    # --- checkout through the local gateway ------------------------------------------------
    buyer = signed_in_page(new_context, buyer_email, "Ben Buyer")
    buyer.goto(f"/courses/{course['slug']}")
    expect(buyer.locator(".buy-box .price")).to_have_text("$40.00")
    buyer.get_by_role("button", name="Buy for $40.00").click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Checkout")
    split = buyer.get_by_role("table", name="Price breakdown")
    expect(split.get_by_role("row", name="You pay")).to_contain_text("$40.00")
    expect(split.get_by_role("row", name="The creator receives")).to_contain_text("$34.00")
    expect(split.get_by_role("row", name="Lyceum's commission (15%)")).to_contain_text("$6.00")
    check_a11y(buyer, "buying-01-checkout")

    buyer.get_by_role("button", name="Pay $40.00").click()
    expect(buyer).to_have_url(re.compile(r"/checkout/local/cs_local_\w+$"))
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Pay $40.00")
    expect(buyer.get_by_text("test payment page")).to_be_visible()
    check_a11y(buyer, "buying-02-test-payment-page")
    buyer.get_by_role("button", name="Pay", exact=True).click()

    expect(buyer).to_have_url(re.compile(r"/checkout/orders/\d+/success$"))
    status = buyer.get_by_role("status").filter(has_text="payment")
    expect(status).to_contain_text(f"Your payment went through and “{TITLE}” is yours.")
    check_a11y(buyer, "buying-03-success")
    buyer.get_by_role("button", name="Start learning").click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Welcome")
    expect(buyer.get_by_role("button", name="Mark complete and continue")).to_be_visible()  # unlocked
    expect(buyer.get_by_role("navigation", name="Course syllabus").get_by_role("link", name="First principles")).to_be_visible()
    check_a11y(buyer, "buying-04-unlocked")
    player_url = buyer.url

    open_account_menu(buyer)
    buyer.get_by_role("link", name="My purchases").click()
    receipt = buyer.locator("article.purchase").filter(has_text=TITLE)
    expect(receipt).to_contain_text("paid $40.00")
    check_a11y(buyer, "buying-05-purchases")

    # --- the creator: the sale waits in escrow ---------------------------------------------------
    creator = signed_in_page(new_context, creator_email, "Cora Creator")
    open_account_menu(creator)
    creator.get_by_role("link", name="Earnings").click()
    expect(creator.get_by_role("heading", level=1)).to_have_text("Earnings")
    expect_balances(creator, available="$0.00", escrow="$34.00", in_flight="$0.00", paid_out="$0.00")
    sale = creator.get_by_role("table", name="Your sales").get_by_role("row").filter(has_text=TITLE)
    expect(sale.get_by_role("cell")).to_have_text([re.compile(r"\d\d [A-Z][a-z]{2} \d{4}"), TITLE, "$40.00",
                                                   "$6.00 (15%)", "$34.00", "in escrow"])
    check_a11y(creator, "buying-06-earnings-in-escrow")

    # --- the learner completes the course: escrow is released --------------------------------------
    buyer.goto(player_url)
    finish_course(buyer)
    creator.reload()
    expect_balances(creator, available="$34.00", escrow="$0.00")
    expect(sale.get_by_role("cell").last).to_have_text("available")

    # --- payout to PayPal ----------------------------------------------------------------------------
    creator.get_by_label("PayPal e-mail").fill("cora.payouts@example.test")
    creator.get_by_role("button", name="Use PayPal").click()
    expect(alerts(creator)).to_have_text("PayPal is connected for payouts.")
    expect(creator.get_by_role("region", name="Withdraw")).to_contain_text(
        "Payouts go to PayPal (cora.payouts@example.test), status active")
    check_a11y(creator, "buying-07-paypal-connected")
    creator.get_by_label("Amount").fill("50")
    creator.get_by_role("button", name="Withdraw").click()
    expect(creator.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
    expect(creator.locator("#withdraw-error")).to_have_text("You can withdraw at most 34.00.")
    expect_balances(creator, available="$34.00")  # nothing moved
    check_a11y(creator, "buying-08-withdraw-too-much")
    creator.get_by_label("Amount").fill("34")
    creator.get_by_role("button", name="Withdraw").click()
    expect(alerts(creator)).to_have_text("Your payout is on its way.")
    payout = creator.get_by_role("table", name="Your payouts").get_by_role("row").nth(1)
    expect(payout.get_by_role("cell")).to_have_text([re.compile(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC"), "$34.00",
                                                     "paypal", "paid"])
    expect_balances(creator, available="$0.00", escrow="$0.00", in_flight="$0.00", paid_out="$34.00")
    check_a11y(creator, "buying-09-paid-out")
