"""Browser tests: Debian's Chromium, driven by Playwright (pytest-playwright), against a
live Lyceum server running in a thread of the test process (ARCHITECTURE §9).

- The live server has its own app and its own freshly migrated database (`build_app`),
  SQLite or PostgreSQL/Redis as the environment says. Its requests commit for real, so the
  suite's per-test rollback (`db`) is switched off here and each test uses its own
  e-mail addresses (`tests.support.browser.unique_email`).
- `base_url` is the live server, so `page.goto("/auth/login")` works.
- The pages keep their real Content-Security-Policy: axe is evaluated through the DevTools
  protocol (`tests.support.browser.check_a11y`), which the CSP does not govern, so no context needs
  `bypass_csp`. Any CSP violation or uncaught JavaScript error in a page fails the test.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.support.apps import build_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
CONTEXT_DEFAULTS = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB",
                    "timezone_id": "UTC", "color_scheme": "light"}
HOW_TO_GET_CHROMIUM = ("Install Debian's Chromium with `apt-get install -y chromium` (or run "
                       "`playwright install chromium` on a machine with internet access), or "
                       "point LYCEUM_CHROMIUM at a Chromium executable.")


def find_chromium() -> str | None:
    """LYCEUM_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH."""
    configured = os.environ.get("LYCEUM_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


# --- the suite's rollback does not apply to a live server ------------------------------


def pytest_itemcollected(item):
    """Every test here is `committed` (the live server's requests commit for real): no per-test
    rollback, and the shared test app is not used (tests/support/databases.py)."""
    item.add_marker(pytest.mark.committed)


# --- the live server ------------------------------------------------------------------


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url


@pytest.fixture(scope="session")
def live_server():
    app, teardown = build_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="lyceum-live-server", daemon=True)
    werkzeug_log = logging.getLogger("werkzeug")
    previous_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # no access log line per request
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        werkzeug_log.setLevel(previous_level)
        teardown()


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


# --- the browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = find_chromium()
    if executable is None:
        pytest.fail(f"No Chromium found for the browser tests. {HOW_TO_GET_CHROMIUM}", pytrace=False)
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's `new_context`, failing the test on a CSP violation or an uncaught
    JavaScript error in any of its pages."""
    problems: list[str] = []

    def on_console(msg):
        if "Content Security Policy" in msg.text:
            problems.append(f"CSP violation on {msg.page.url if msg.page else '?'}: {msg.text}")

    def on_weberror(error):
        problems.append(f"uncaught JavaScript error: {error.error}")

    contexts = []

    def make(**kwargs):
        # Defaults here, not in `browser_context_args`: a test may override any of them.
        context = new_context(**{**CONTEXT_DEFAULTS, **kwargs})
        contexts.append(context)
        context.set_default_timeout(10_000)  # a local server: waiting longer finds nothing
        context.lyceum_js_enabled = kwargs.get("java_script_enabled", True)
        context.on("console", on_console)
        context.on("weberror", on_weberror)
        return context

    make.problems = problems  # the harness test reads it
    yield make
    for context in contexts:
        if context in context.browser.contexts:
            context.close()  # a round trip: every event the pages sent has been delivered
    if problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems), pytrace=False)
