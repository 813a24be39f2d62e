"""The production shape (tests/support/deployment.py) as a module-wide fixture.

These tests work only through nginx against processes of their own, on a database of their
own: the suite's per-test rollback and shared test app do not apply."""
from __future__ import annotations

import os

import pytest

from tests.support.deployment import NGINX, Deployment


def pytest_itemcollected(item):
    """Every test here is `committed` (the deployment's processes commit for real): no per-test
    rollback, and the shared test app is not used (tests/support/databases.py)."""
    item.add_marker(pytest.mark.committed)


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
