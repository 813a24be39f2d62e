"""A learner reads a lesson's PDF inside the player: the browser's PDF viewer shows it in
the page (no CSP violation: media may be framed by our own pages), although the PDF is
served as a sandboxed document that cannot run as this site, and is not cached."""
from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.queries import user_by_email
from app.catalog import courses, publishing, structure
from app.catalog.models import Category
from app.catalog.samples import pdf, png, video
from app.extensions import db
from tests.support.browser import DESCRIPTION, check_a11y, make_user, screenshot, signed_in_page

pytestmark = pytest.mark.e2e

PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"  # Chromium's built-in viewer


def course_with_a_pdf(app, creator_email: str, reviewer_email: str) -> dict:
    """A published free course: a free-preview video, a PDF lesson (not a preview), a text."""
    with app.app_context():
        creator, reviewer = user_by_email(creator_email), user_by_email(reviewer_email)
        category_id = db.session.scalar(sa.select(Category.id).order_by(Category.position).limit(1))
        course = courses.create_course(creator, title="Pressed flowers", category_id=category_id,
                                       accept_terms=True)
        courses.update_course_field(creator, course, "description", DESCRIPTION)
        courses.set_cover(creator, course, io.BytesIO(png(320, 180)), "cover.png")
        section = structure.add_section(creator, course, title="Getting started")
        welcome = structure.add_lesson(creator, section, title="Welcome", kind="video")
        structure.set_lesson_media(creator, welcome, io.BytesIO(video()), "welcome.webm")
        structure.update_lesson(creator, welcome, is_free_preview=True)
        notes = structure.add_lesson(creator, section, title="Press notes", kind="pdf")
        structure.set_lesson_media(creator, notes, io.BytesIO(pdf("Press notes", ["Dry for a week."])),
                                   "press-notes.pdf")
        reading = structure.add_lesson(creator, section, title="Keep them flat", kind="text")
        structure.update_lesson(creator, reading, body="Use heavy books.")
        publishing.submit_for_review(creator, course)
        publishing.approve_course(reviewer, course)
        db.session.commit()
        return {"id": course.id, "slug": course.slug, "pdf_lesson": notes.id}


# The number of pages Chromium's viewer shows in its toolbar: set once the PDF is loaded.
PAGES_SHOWN = """() => {
    const viewer = document.querySelector("pdf-viewer");
    const toolbar = viewer && viewer.shadowRoot && viewer.shadowRoot.querySelector("viewer-toolbar");
    const pages = toolbar && toolbar.shadowRoot && toolbar.shadowRoot.querySelector("viewer-page-selector");
    return pages ? pages.docLength : 0;
}"""


def wait_for_frame(page, starts_with: str, seconds: float = 10):
    """The page's frame whose address starts with `starts_with`, once it exists."""
    deadline = time.monotonic() + seconds
    while True:
        found = [frame for frame in page.frames if frame.url.startswith(starts_with)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail(f"no frame {starts_with}… in {[frame.url for frame in page.frames]}")
        page.wait_for_timeout(100)


def test_the_player_shows_the_pdf_inline(live_server, new_context):
    app = live_server.app
    creator_email = make_user(app, "petra", "Petra Presser")
    reviewer_email = make_user(app, "rolf", "Rolf Reviewer", "review_courses")
    learner_email = make_user(app, "lina", "Lina Learner")
    course = course_with_a_pdf(app, creator_email, reviewer_email)

    page = signed_in_page(new_context, learner_email, "Lina Learner")
    page.goto(f"/courses/{course['slug']}")
    page.get_by_role("button", name="Enroll for free").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")

    media_url = f"/courses/lessons/{course['pdf_lesson']}/media"
    with page.expect_response(lambda r: r.url.endswith(media_url)) as served:
        page.goto(f"/learn/{course['id']}/lessons/{course['pdf_lesson']}")
    headers = served.value.all_headers()
    assert served.value.status == 200
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"].startswith("sandbox;")
    assert "frame-ancestors 'self'" in headers["content-security-policy"]

    expect(page.get_by_role("heading", level=1)).to_have_text("Press notes")
    document = page.locator("object.lesson-pdf")
    expect(document).to_be_visible()
    expect(document).to_have_attribute("data", media_url)
    wait_for_frame(page, live_server.url + media_url)
    viewer = wait_for_frame(page, PDF_VIEWER)  # Chromium's viewer runs inside the frame...
    viewer.wait_for_function(f"() => ({PAGES_SHOWN})() >= 1")  # ...and has the PDF's page
    assert not [frame.url for frame in page.frames if frame.url.startswith("chrome-error:")]
    screenshot(page, "pdf-01-player-shows-the-pdf")
    check_a11y(page, "pdf-02-player-a11y")

