"""What the browser tests share: unique accounts, axe + screenshots, common steps."""
from __future__ import annotations

import io
import json
import re
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts import auth, roles
from app.accounts.queries import user_by_email
from app.catalog import courses, publishing, quizzes, structure
from app.catalog.models import Category
from app.catalog.samples import png, video
from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "app" / "static" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"  # git-ignored
PASSWORD = "violet kettle harbour 42"
FAILING_IMPACTS = ("serious", "critical")

_axe_source: str | None = None


def unique_email(who: str) -> str:
    """Data is committed on the live server, so every test signs up its own addresses."""
    return f"{who}-{uuid.uuid4().hex[:10]}@example.test"


def _axe() -> str:
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS.relative_to(ROOT)} is missing: run `make vendor` (it fetches "
                        "axe-core with the other front-end files).", pytrace=False)
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    return _axe_source


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # caret="initial": Playwright's default (hide) injects a <style> element to hide the
    # text cursor, which the page's CSP blocks and reports as a violation.
    page.screenshot(path=path, full_page=True, caret="initial")
    return path


def check_a11y(page: Page, name: str, *, skip_rules: tuple[str, ...] = ()) -> list[dict]:
    """Save a full-page screenshot as artifacts/<name>.png, run axe-core on the page and fail
    on any serious or critical violation. Returns all violations (minor ones included).
    `skip_rules`: axe rules not run, for markup that is not ours (a vendored widget's); say
    why where it is passed.

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern, so
    the page keeps its real policy. A page without JavaScript cannot run axe: use
    `screenshot` there."""
    screenshot(page, name)
    if not getattr(page.context, "lyceum_js_enabled", True):
        raise RuntimeError("axe needs JavaScript: this context has it disabled")
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe() + "\n;undefined")
    violations = page.evaluate("""async (skip) => {
        const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]));
        const result = await axe.run(document, {resultTypes: ["violations"], rules});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
        }));
    }""", list(skip_rules))
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            print(f"axe [{name}] {v['impact']}: {v['id']} — {v['help']} "
                  f"({', '.join(json.dumps(n['target']) for n in v['nodes'])})")
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if failing:
        screenshot_path = ARTIFACTS / f"{name}.png"
        header = (f"axe found {len(failing)} serious/critical violation(s) on {page.url} "
                  f"(screenshot: {screenshot_path}):")
        lines = [header]
        for v in failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
            for n in v["nodes"]:
                lines.append(f"    target {json.dumps(n['target'])}: {n['html'][:200]}")
                if n["summary"]:
                    lines.append("      " + n["summary"].replace("\n", "\n      "))
        pytest.fail("\n".join(lines), pytrace=False)
    return violations


# --- steps several journeys take ------------------------------------------------------


def htmx_settled(page: Page) -> None:
    """Wait until htmx has finished its requests and swaps, so new content is wired up (its
    triggers listen) before the test types into it: a person is never that fast."""
    page.wait_for_function("""() => window.htmx && !document.querySelector(
        ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")""")


def mark_page(page: Page) -> None:
    """Leave a mark in the window; a full page load wipes it (`expect_same_page`)."""
    page.evaluate("() => { window.lyceumNoReload = true; }")


def expect_same_page(page: Page) -> None:
    """No full page load since `mark_page`: htmx did the work in place."""
    assert page.evaluate("() => window.lyceumNoReload === true"), f"{page.url} was reloaded"


def alerts(page: Page):
    """The flash messages under the header."""
    return page.locator("#alerts")


def open_account_menu(page: Page) -> None:
    """The account menu is a <details> dropdown: works with or without JavaScript."""
    menu = page.locator("details.account-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")


def log_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(alerts(page)).to_contain_text("You are logged out.")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill and send the log-in form (the caller decides what should happen next)."""
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()


def mailed_link(app, to: str, path: str, timeout: float = 10.0) -> str:
    """The path of the link to `path…` in the newest mail the live server wrote to `to`
    (its file mail backend), waiting for it up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pattern = re.compile(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)")
    while True:
        for file in sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"), reverse=True):
            message = message_from_bytes(file.read_bytes(), policy=policy.default)
            match = pattern.search(message.get_content()) if message["To"] == to else None
            if match:
                return match.group(1)
        assert time.monotonic() < deadline, f"no mail to {to} with a {path} link"
        time.sleep(0.1)


def finish_sign_up(page: Page, app, email: str) -> None:
    """After the sign-up form: the page says to check the mail; follow its link and confirm."""
    expect(page.get_by_role("heading", name="Check your e-mail to finish signing up")).to_be_visible()
    page.goto(mailed_link(app, email, "/auth/signup/confirm/"))
    page.get_by_role("button", name="Confirm and sign in").click()


def expect_dashboard(page: Page, display_name: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {display_name}")


# --- people and courses made through the services (for journeys that start later) -----


def make_user(app, who: str, display_name: str, *permissions: str) -> str:
    """Sign up an account on the live server's database (with `permissions` granted by the
    system); returns its e-mail."""
    email = unique_email(who)
    with app.app_context():
        user = auth.sign_up(email=email, display_name=display_name, password=PASSWORD)
        for permission in permissions:
            roles.grant_permission(None, user, permission, system=True)
        db.session.commit()
    return email


def signed_in_page(new_context, email: str, display_name: str, **context_args) -> Page:
    """A new browser context, logged in as `email` through the log-in form."""
    page = new_context(**context_args).new_page()
    page.goto("/auth/login")
    log_in(page, email)
    expect_dashboard(page, display_name)
    return page


DESCRIPTION = ("A practical course in short lessons. Each section ends with a quiz so you can "
               "check what you learned, and the notes summarise every idea. You practise on "
               "realistic examples rather than toy problems, and finish with a small project "
               "of your own to show.")


def publish_course(app, creator_email: str, reviewer_email: str, *, title: str,
                   subtitle: str = "", category: str = "development", price_minor: int = 0,
                   description: str = DESCRIPTION, level: str = "beginner") -> dict:
    """A published course made through the services, as a creator and a reviewer would:
    section 1 has a free-preview video and a text lesson, section 2 a one-question quiz
    whose right answer is "The right answer". Returns its id, slug and lesson titles."""
    with app.app_context():
        creator, reviewer = user_by_email(creator_email), user_by_email(reviewer_email)
        category_id = db.session.scalar(sa.select(Category.id).where(Category.slug == category))
        course = courses.create_course(creator, title=title, category_id=category_id, accept_terms=True)
        courses.update_course_field(creator, course, "subtitle", subtitle)
        courses.update_course_field(creator, course, "description", description)
        courses.update_course_field(creator, course, "level", level)
        courses.set_price(creator, course, price_minor)
        courses.set_cover(creator, course, io.BytesIO(png(320, 180)), "cover.png")
        basics = structure.add_section(creator, course, title="Getting started")
        welcome = structure.add_lesson(creator, basics, title="Welcome", kind="video")
        structure.set_lesson_media(creator, welcome, io.BytesIO(video()), "welcome.webm")
        structure.update_lesson(creator, welcome, duration_minutes=2, is_free_preview=True)
        reading = structure.add_lesson(creator, basics, title="First principles", kind="text")
        structure.update_lesson(creator, reading, duration_minutes=5,
                                body="## First principles\n\nStart **small**, then grow.")
        practice = structure.add_section(creator, course, title="Practice")
        check = structure.add_lesson(creator, practice, title="Check yourself", kind="quiz")
        question = quizzes.add_question(creator, check.quiz, prompt="Where do you start?",
                                        explanation="Small steps keep you moving.")
        quizzes.add_option(creator, question, text="The right answer", is_correct=True)
        quizzes.add_option(creator, question, text="A wrong answer")
        publishing.submit_for_review(creator, course)
        publishing.approve_course(reviewer, course)
        db.session.commit()
        return {"id": course.id, "slug": course.slug, "title": course.title,
                "lessons": ["Welcome", "First principles", "Check yourself"]}
