"""The front-end pins: package.json and package-lock.json, the files Dependabot reads and moves,
agree with each other, and every pinned package names the files the site serves from it
(scripts/fetch_vendor.py refuses to fetch otherwise; `make vendor` does the fetching)."""
from __future__ import annotations

import copy
import json
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "package.json").read_text())
LOCK = json.loads((ROOT / "package-lock.json").read_text())
FETCH = runpy.run_path(str(ROOT / "scripts" / "fetch_vendor.py"))  # its functions; main() is not run


def test_every_front_end_package_is_pinned_exactly_and_locked_at_that_version():
    declared = {**MANIFEST["dependencies"], **MANIFEST["devDependencies"]}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in declared.values()), declared
    packages = FETCH["pinned_packages"](MANIFEST, LOCK)
    assert {(name, version) for name, version, *_ in packages} == set(declared.items())
    root = LOCK["packages"][""]
    assert root["dependencies"] == MANIFEST["dependencies"]
    assert root["devDependencies"] == MANIFEST["devDependencies"]
    served = [target for *_, files in packages for target in files.values()]
    assert len(served) == len(set(served))
    assert {"htmx.min.js", "sse.min.js", "ws.min.js", "pico.min.css", "axe.min.js",
            "swagger-ui-bundle.js", "swagger-ui.css"} <= set(served)


def test_a_range_a_version_the_lock_lacks_or_a_package_without_files_is_refused():
    loose = copy.deepcopy(MANIFEST)
    loose["dependencies"]["htmx.org"] = "^" + loose["dependencies"]["htmx.org"]
    unlocked = copy.deepcopy(LOCK)
    del unlocked["packages"]["node_modules/htmx.org"]["integrity"]
    unserved = copy.deepcopy(MANIFEST)
    del unserved["vendorFiles"]["htmx.org"]
    for manifest, lock in ((loose, LOCK), (MANIFEST, unlocked), (unserved, LOCK)):
        with pytest.raises(FETCH["PinError"]):
            FETCH["pinned_packages"](manifest, lock)


def test_a_tarball_is_checked_against_npms_sha512_integrity():
    integrity = LOCK["packages"]["node_modules/htmx.org"]["integrity"]
    assert FETCH["integrity_of"](b"not the htmx tarball") != integrity
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", FETCH["integrity_of"](b""))
