"""The production shape (tests/support/deployment.py) as a module-wide fixture.

These tests work only through nginx against processes of their own, on a database of their
own: the suite's per-test rollback and shared test app do not apply."""
from __future__ import annotations

import os

import pytest

from tests.support.deployment import NGINX, Deployment


@pytest.fixture(autouse=True)
def db():
    """No per-test rollback: the deployment's processes commit for real."""
    yield None


@pytest.fixture(autouse=True)
def _clean_limits_and_files():
    """The suite's version resets the shared test app; the deployment has its own."""
    yield


@pytest.fixture(scope="module")
def deployment():
    if not os.access(NGINX, os.X_OK):  # the real-services pass must have it: .ci/run installs it
        pytest.fail(f"{NGINX} is missing: install Debian's nginx (apt-get install -y nginx), as .ci/run does",
                    pytrace=False)
    with Deployment() as site:
        yield site


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the last lines each process wrote."""
    outcome = yield
    report = outcome.get_result()
    site = item.funcargs.get("deployment") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(site, Deployment):
        report.sections.append(("deployment logs", site.logs()))
