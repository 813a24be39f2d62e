"""A creator builds a course in the studio, submits it, and an admin approves it: once with
JavaScript (htmx inline editing, live previews, upload progress) and once without (plain
forms and redirects). Every page is photographed; with JavaScript, axe checks each one."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from app.catalog.samples import SAMPLE_DIR, png
from tests.support.browser import (
    alerts,
    check_a11y,
    expect_same_page,
    htmx_settled,
    make_user,
    mark_page,
    screenshot,
    signed_in_page,
)

pytestmark = pytest.mark.e2e

VIDEO = SAMPLE_DIR / "sample.webm"
DESCRIPTION = ("Learn to bake **real bread** at home: flour, water, salt and time.\n\n"
               "- Mix and knead a simple dough\n- Shape loaves that hold their form\n"
               "- Bake with steam for a crackling crust\n\nNo special equipment: a bowl, "
               "your hands and an ordinary oven are enough to start.")
LESSON_TEXT = "## Why knead?\n\nKneading builds **gluten**, the network that traps gas.\n\n1. Fold\n2. Push\n3. Turn"


@pytest.fixture
def cover_file(tmp_path):
    path = tmp_path / "cover.png"
    path.write_bytes(png(640, 360, (180, 83, 9), (245, 158, 11)))
    return path


@contextmanager
def slow_uploads(page: Page, bytes_per_second: int):
    """Throttle the page's uploads (DevTools network emulation) so that an upload lasts long
    enough to be seen, as on a real connection."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1,
                                                  "uploadThroughput": bytes_per_second})
    try:
        yield
    finally:
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
        cdp.detach()


def field(page: Page, name: str):
    return page.locator(f"#field-{name}")


def edit_inline(page: Page, name: str, label: str):
    """Click a detail's Edit link; with htmx its form swaps in (wait until it is wired up)."""
    field(page, name).get_by_role("link", name=f"Edit {label}").click()
    if page.context.lyceum_js_enabled:
        expect(field(page, name).locator("form")).to_be_visible()
        htmx_settled(page)


def admin_approves(new_context, admin_email: str, title: str, name: str, *, js: bool = True) -> None:
    """The reviewer opens the queue, looks at the course and approves it."""
    admin = signed_in_page(new_context, admin_email, "Rita Reviewer", java_script_enabled=js)
    shoot = check_a11y if js else screenshot
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    admin.get_by_role("link", name="Review queue").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Review queue")
    row = admin.get_by_role("row").filter(has=admin.get_by_role("link", name=title))
    expect(row).to_contain_text("Casey Creator")
    shoot(admin, f"{name}-review-queue")
    row.get_by_role("link", name=title).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(title)
    expect(admin.locator(".checklist-plain li")).not_to_contain_text(["✗"])
    shoot(admin, f"{name}-review-course")
    admin.get_by_role("button", name="Approve and publish").click()
    expect(alerts(admin)).to_have_text(f"“{title}” is published.")
    expect(admin.get_by_role("link", name=title)).to_have_count(0)  # gone from the queue
    shoot(admin, f"{name}-review-approved")
    admin.context.close()


def test_creator_builds_a_course_inline_and_an_admin_publishes_it(live_server, new_context, cover_file):
    app = live_server.app
    creator_email = make_user(app, "casey", "Casey Creator")
    admin_email = make_user(app, "rita", "Rita Reviewer", "review_courses")
    page = signed_in_page(new_context, creator_email, "Casey Creator")

    # --- a new course -------------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Studio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
    check_a11y(page, "studio-01-empty")
    page.get_by_role("button", name="Create a course").click()
    check_a11y(page, "studio-02-new-course")
    page.get_by_role("button", name="Create and start editing").click()  # empty: refused
    expect(page.get_by_label("Course title")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Course title").fill("Bread at home")
    page.get_by_label("Category").select_option(label="Health & Fitness")
    page.get_by_label("I accept the creator terms").check()
    page.get_by_role("button", name="Create and start editing").click()
    expect(page).to_have_url(re.compile(r"/studio/courses/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bread at home")
    expect(page.locator(".page-head .status")).to_have_text("Draft")
    check_a11y(page, "studio-04-editor")
    editor_url = page.url
    mark_page(page)

    # --- inline edits: save one, cancel another with Escape ---------------------------------
    edit_inline(page, "title", "title")
    title_input = field(page, "title").get_by_role("textbox", name="Title")
    expect(title_input).to_be_focused()
    title_input.fill("Sourdough bread at home")
    check_a11y(page, "studio-05-editing-title")
    field(page, "title").get_by_role("button", name="Save").click()
    expect(field(page, "title").locator(".inline-value")).to_contain_text("Sourdough bread at home")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sourdough bread at home")

    edit_inline(page, "subtitle", "subtitle")
    subtitle_input = field(page, "subtitle").get_by_role("textbox", name="Subtitle")
    subtitle_input.fill("This text is abandoned")
    subtitle_input.press("Escape")
    expect(subtitle_input).to_be_hidden()
    expect(field(page, "subtitle").locator(".inline-value")).to_have_text(re.compile(r"^\s*Not set\s*Edit subtitle\s*$"))

    edit_inline(page, "description", "description")
    description = field(page, "description").get_by_role("textbox", name="Description (Markdown)")
    description.fill(DESCRIPTION)
    preview = field(page, "description").locator(".preview-pane")
    expect(preview.locator("strong")).to_have_text("real bread")  # the live preview
    expect(preview.locator("li")).to_have_count(3)
    check_a11y(page, "studio-06-editing-description")
    field(page, "description").get_by_role("button", name="Save").click()
    expect(field(page, "description").locator(".prose strong")).to_have_text("real bread")
    expect(page.locator("#checklist")).to_contain_text("The description has at least 200 characters")
    expect_same_page(page)

    # --- the curriculum -------------------------------------------------------------------
    page.get_by_label("New section title").fill("The basics")
    page.get_by_role("button", name="Add section").click()
    section = page.locator(".section-card").filter(has_text="Section 1: The basics")
    expect(section).to_be_visible()
    for title, kind in [("Why we knead", "Text"), ("Kneading quiz", "Quiz"), ("Shaping a loaf", "Video")]:
        htmx_settled(page)  # the swapped-in curriculum's forms post through htmx
        section.get_by_label("New lesson title").fill(title)
        section.get_by_label("Type").select_option(label=kind)
        section.get_by_role("button", name="Add lesson").click()
        expect(section.locator(".lesson-row").filter(has_text=title)).to_contain_text(kind)
    expect(section.locator(".lesson-row")).to_have_count(3)
    # The checklist follows the curriculum (swapped out of band with it).
    expect(page.locator("#checklist li.ok").filter(has_text="at least 3 lessons (now 3)")).to_have_count(1)
    expect(page.locator("#checklist li.todo").filter(has_text="Lesson “Why we knead” has no content yet")).to_have_count(1)
    expect_same_page(page)
    check_a11y(page, "studio-07-curriculum")

    # A text lesson in Markdown, with a live preview.
    section.get_by_role("link", name="Why we knead").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Why we knead")
    check_a11y(page, "studio-08-text-lesson")
    page.get_by_label("Lesson text (Markdown)").fill(LESSON_TEXT)
    expect(page.locator("#lesson-body-preview strong")).to_have_text("gluten")
    page.get_by_role("button", name="Save text").click()
    expect(page.locator("#lesson_content").get_by_role("status")).to_have_text("Saved.")
    screenshot(page, "studio-09-text-lesson-saved")
    page.reload()
    expect(page.get_by_label("Lesson text (Markdown)")).to_have_value(LESSON_TEXT)

    # A quiz: one question, a right and a wrong answer.
    page.goto(editor_url)
    page.get_by_role("link", name="Kneading quiz", exact=True).click()
    mark_page(page)
    adder = page.locator("form.add-question")
    adder.get_by_label("Question").fill("What does kneading build?")
    adder.get_by_label("Type").select_option(label="Single choice")
    adder.get_by_label("Explanation (optional)").fill("Gluten traps the gas the yeast makes.")
    adder.get_by_role("button", name="Add question").click()
    question = page.locator("article.question")
    expect(question).to_have_count(1)
    expect(question.get_by_text("No correct answer marked yet.")).to_be_visible()
    htmx_settled(page)
    question.get_by_label("New answer").fill("Gluten")
    question.get_by_label("This answer is correct").check()
    question.get_by_role("button", name="Add answer").click()
    options = question.locator("ul.options > li")
    expect(options).to_have_count(1)
    htmx_settled(page)
    question.get_by_label("New answer").fill("Sugar")
    question.get_by_role("button", name="Add answer").click()
    expect(options).to_have_count(2)
    expect_same_page(page)
    expect(options.filter(has_text="Gluten")).to_contain_text("Correct")
    expect(options.filter(has_text="Sugar")).not_to_contain_text("Correct")
    expect(question.get_by_text("No correct answer marked yet.")).to_have_count(0)
    check_a11y(page, "studio-10-quiz")

    # A video, with the upload's progress on screen.
    page.goto(editor_url)
    page.get_by_role("link", name="Shaping a loaf", exact=True).click()
    expect(page.get_by_text("No file yet.")).to_be_visible()
    check_a11y(page, "studio-11-video-lesson")
    page.get_by_label(re.compile(r"^Upload a video")).set_input_files(VIDEO)
    progress = page.locator("#lesson_content progress")
    with slow_uploads(page, 16 * 1024):  # the 22 kB sample takes over a second
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(progress).to_be_visible()
        expect(progress).to_have_attribute("value", re.compile(r"^[1-9]\d*$"))
        expect(page.get_by_role("button", name="Upload", exact=True)).to_be_disabled()  # no double upload
        screenshot(page, "studio-12-video-uploading")
        expect(page.locator("#lesson_content")).to_contain_text("Current file: sample.webm", timeout=15_000)
    expect(page.locator("#lesson_content video")).to_be_visible()
    expect(progress).to_be_hidden()  # a fresh form
    check_a11y(page, "studio-13-video-uploaded")

    # The cover (the same upload form, swapped in place).
    page.goto(editor_url)
    mark_page(page)
    page.get_by_label(re.compile(r"^Upload a cover")).set_input_files(cover_file)
    page.get_by_role("button", name="Upload cover").click()
    expect(page.get_by_role("img", name="Current cover of Sourdough bread at home")).to_be_visible()
    expect(page.locator("#checklist li.ok").filter(has_text="cover image")).to_have_count(1)

    # The price, and what the creator receives for it (live while typing).
    edit_inline(page, "price", "price")
    price = field(page, "price").get_by_role("textbox", name=re.compile(r"^Price in USD"))
    price.fill("24.99")
    split = page.locator("#price-split")
    expect(split).to_contain_text("you receive $21.24 after the platform's 15% commission ($3.75)")
    price.fill("1")
    expect(split).to_contain_text("1.99")  # below the minimum: says what it is
    price.fill("24.99")
    expect(split).to_contain_text("you receive $21.24")
    check_a11y(page, "studio-14-price")
    field(page, "price").get_by_role("button", name="Save").click()
    expect(field(page, "price").locator(".inline-value")).to_contain_text("$24.99")
    expect(field(page, "price").locator(".inline-value")).to_contain_text("you receive $21.24")
    expect_same_page(page)

    # --- submit, approve, published ------------------------------------------------------------
    expect(page.locator("#checklist li.todo")).to_have_count(0)
    screenshot(page, "studio-15-ready")
    page.get_by_role("button", name="Preview as a learner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sourdough bread at home")
    page.get_by_role("navigation", name="Syllabus").get_by_role("link", name="Why we knead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why we knead")
    expect(page.locator(".lesson-content .prose strong")).to_have_text("gluten")
    check_a11y(page, "studio-15-preview-as-learner")
    page.get_by_role("link", name="Back to the editor").click()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".page-head .status")).to_have_text("Under review")
    expect(page.get_by_text("This course is waiting for a reviewer, so it is locked.")).to_be_visible()
    expect(page.get_by_role("link", name="Edit title")).to_have_count(0)
    check_a11y(page, "studio-16-under-review")

    admin_approves(new_context, admin_email, "Sourdough bread at home", "studio-17")

    page.reload()
    expect(page.locator(".page-head .status")).to_have_text("Published")
    expect(page.locator(".page-head")).to_contain_text("live in the catalog since")
    check_a11y(page, "studio-18-published")
    page.get_by_role("link", name="← Studio").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Sourdough bread at home"))
    expect(row).to_contain_text("Published")
    expect(row).to_contain_text("$24.99")
    check_a11y(page, "studio-19-course-list")
    page.goto("/courses/?q=sourdough")
    page.locator(".course-card").filter(has_text="Sourdough bread at home").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sourdough bread at home")
    expect(page.get_by_role("button", name="Edit in the studio")).to_be_visible()
    check_a11y(page, "studio-20-public-page")


def test_creator_builds_a_course_without_javascript(live_server, new_context, cover_file):
    app = live_server.app
    creator_email = make_user(app, "casey", "Casey Creator")
    admin_email = make_user(app, "rita", "Rita Reviewer", "review_courses")
    page = signed_in_page(new_context, creator_email, "Casey Creator", java_script_enabled=False)

    page.goto("/studio/courses/new")
    page.get_by_label("Course title").fill("Knife skills")
    page.get_by_label("Category").select_option(label="Health & Fitness")
    page.get_by_label("I accept the creator terms").check()
    page.get_by_role("button", name="Create and start editing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Knife skills")
    editor_url = page.url.split("?")[0].split("#")[0]
    screenshot(page, "studio-nojs-01-editor")

    # Edit opens the editor with that field's form (?edit=field); Save redirects back.
    edit_inline(page, "title", "title")
    expect(page).to_have_url(re.compile(r"\?edit=title#field-title$"))
    field(page, "title").get_by_role("textbox", name="Title").fill("Knife skills for home cooks")
    screenshot(page, "studio-nojs-02-editing-title")
    field(page, "title").get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/studio/courses/\d+#field-title$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Knife skills for home cooks")
    # Cancel is a link back to the editor.
    edit_inline(page, "subtitle", "subtitle")
    field(page, "subtitle").get_by_role("textbox", name="Subtitle").fill("Abandoned")
    field(page, "subtitle").get_by_role("button", name="Cancel").click()
    expect(field(page, "subtitle").get_by_role("textbox")).to_have_count(0)
    expect(field(page, "subtitle").locator(".inline-value")).to_contain_text("Not set")
    edit_inline(page, "description", "description")
    field(page, "description").get_by_role("textbox").fill(DESCRIPTION)
    field(page, "description").get_by_role("button", name="Save").click()
    expect(field(page, "description").locator(".prose strong")).to_have_text("real bread")

    page.get_by_label("New section title").fill("Holding the knife")
    page.get_by_role("button", name="Add section").click()
    section = page.locator(".section-card").filter(has_text="Section 1: Holding the knife")
    for title, kind in [("The pinch grip", "Text"), ("Grip quiz", "Quiz"), ("The claw", "Video")]:
        section.get_by_label("New lesson title").fill(title)
        section.get_by_label("Type").select_option(label=kind)
        section.get_by_role("button", name="Add lesson").click()
        expect(section.locator(".lesson-row").filter(has_text=title)).to_contain_text(kind)
    screenshot(page, "studio-nojs-03-curriculum")

    section.get_by_role("link", name="The pinch grip").click()
    page.get_by_label("Lesson text (Markdown)").fill("Hold the blade with **thumb and finger**.")
    page.get_by_role("button", name="Preview").click()  # a server-rendered preview
    expect(page.locator("#lesson-body-preview strong")).to_have_text("thumb and finger")
    expect(page.get_by_label("Lesson text (Markdown)")).to_have_value("Hold the blade with **thumb and finger**.")
    screenshot(page, "studio-nojs-04-text-preview")
    page.get_by_role("button", name="Save text").click()
    expect(page).to_have_url(re.compile(r"/studio/lessons/\d+#content$"))
    page.reload()
    expect(page.get_by_label("Lesson text (Markdown)")).to_have_value("Hold the blade with **thumb and finger**.")

    page.goto(editor_url)
    page.get_by_role("link", name="Grip quiz", exact=True).click()
    adder = page.locator("form.add-question")
    adder.get_by_label("Question").fill("Where does the thumb go?")
    adder.get_by_role("button", name="Add question").click()
    question = page.locator("article.question")
    question.get_by_label("New answer").fill("On the side of the blade")
    question.get_by_role("button", name="Add answer").click()
    question.get_by_label("New answer").fill("On top of the handle")
    question.get_by_role("button", name="Add answer").click()
    blade = question.locator("ul.options > li").filter(has_text="On the side of the blade")
    blade.get_by_role("button", name=re.compile(r"^Mark correct")).click()
    expect(question.locator("ul.options > li").filter(has_text="On the side of the blade")).to_contain_text("Correct")
    screenshot(page, "studio-nojs-05-quiz")

    page.goto(editor_url)
    page.get_by_role("link", name="The claw", exact=True).click()
    page.get_by_label(re.compile(r"^Upload a video")).set_input_files(VIDEO)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#lesson_content")).to_contain_text("Current file: sample.webm")
    screenshot(page, "studio-nojs-06-video")

    page.goto(editor_url)
    page.get_by_label(re.compile(r"^Upload a cover")).set_input_files(cover_file)
    page.get_by_role("button", name="Upload cover").click()
    expect(page.get_by_role("img", name="Current cover of Knife skills for home cooks")).to_be_visible()

    # A bad value comes back with the error and what was typed.
    edit_inline(page, "price", "price")
    field(page, "price").get_by_role("textbox").fill("abc")
    field(page, "price").get_by_role("button", name="Save").click()
    expect(field(page, "price").get_by_role("textbox")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "price").get_by_role("textbox")).to_have_value("abc")
    expect(field(page, "price")).to_contain_text("Enter an amount as a number")
    expect(page.locator("#price-split")).to_have_text("")  # not the saved price's split
    screenshot(page, "studio-nojs-07-price-error")
    field(page, "price").get_by_role("textbox").fill("10")
    field(page, "price").get_by_role("button", name="Save").click()
    expect(field(page, "price").locator(".inline-value")).to_contain_text("$10.00")
    expect(field(page, "price").locator(".inline-value")).to_contain_text("you receive $8.50")

    expect(page.locator("#checklist li.todo")).to_have_count(0)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".page-head .status")).to_have_text("Under review")
    screenshot(page, "studio-nojs-08-under-review")

    admin_approves(new_context, admin_email, "Knife skills for home cooks", "studio-nojs-09", js=False)
    page.reload()
    expect(page.locator(".page-head .status")).to_have_text("Published")
    screenshot(page, "studio-nojs-10-published")
