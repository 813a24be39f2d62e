"""The harness itself: axe really runs on our pages under their CSP, a violation fails the
test, and a CSP violation in a page is caught."""
from __future__ import annotations

import pytest

from tests.support.browser import ARTIFACTS, check_a11y

pytestmark = pytest.mark.e2e


def test_check_a11y_fails_on_a_serious_violation_and_keeps_a_screenshot(page):
    page.goto("/auth/login")
    check_a11y(page, "harness-01-login")
    # Text that fails WCAG contrast (a serious violation), as a template bug would add it.
    page.evaluate("""() => {
        const p = document.createElement("p");
        p.textContent = "Barely readable";
        p.style.color = "#c8c8c8";
        document.querySelector("main").append(p);
    }""")
    with pytest.raises(pytest.fail.Exception) as failure:
        check_a11y(page, "harness-02-bad-contrast")
    assert "color-contrast (serious)" in str(failure.value)
    assert (ARTIFACTS / "harness-02-bad-contrast.png").stat().st_size > 0


def test_pages_run_under_the_real_csp_and_violations_are_reported(new_context):
    page = new_context().new_page()
    response = page.goto("/auth/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("""() => {
            const s = document.createElement("script");
            s.textContent = "window.inlineRan = true";
            document.body.append(s);
        }""")
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("Content Security Policy" in p for p in new_context.problems)
    new_context.problems.clear()  # expected here; anywhere else it fails the test
