"""What the browser tests share: unique accounts, axe + screenshots, common steps."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "app" / "static" / "vendor" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # git-ignored
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
    page.screenshot(path=path, full_page=True)
    return path


def check_a11y(page: Page, name: str) -> list[dict]:
    """Save a full-page screenshot as artifacts/<name>.png, run axe-core on the page and fail
    on any serious or critical violation. Returns all violations (minor ones included).

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern, so
    the page keeps its real policy. A page without JavaScript cannot run axe: use
    `screenshot` there."""
    screenshot(page, name)
    if not getattr(page.context, "lyceum_js_enabled", True):
        raise RuntimeError("axe needs JavaScript: this context has it disabled")
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe() + "\n;undefined")
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
        }));
    }""")
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


def expect_dashboard(page: Page, display_name: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {display_name}")
