#!/usr/bin/env python3
"""Fetch the pinned front-end files with `npm pack`, verify them, copy them into app/static/vendor/.

The pins are npm's own files, so Dependabot (or `npm install --package-lock-only`) can move them:
package.json names each package at an exact version and, under `vendorFiles`, which files of its
tarball are served; package-lock.json holds the same versions with each tarball's sha512
(`integrity`). No node_modules: each tarball is fetched with `npm pack`, checked against the
lock's integrity, and only the named files are copied. Idempotent: files already fetched for the
current package.json and lock are kept.
"""
from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "package.json"
LOCK = ROOT / "package-lock.json"
DEST = ROOT / "app" / "static" / "vendor"
STAMP = DEST / ".lock-sha256"


class PinError(Exception):
    pass


def pinned_packages(manifest: dict, lock: dict) -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, version, integrity, files) for every package package.json declares, checking that
    each is pinned exactly, locked at that version, and has files to serve."""
    declared = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    files = manifest.get("vendorFiles", {})
    if set(declared) != set(files):
        raise PinError(f"package.json: dependencies {sorted(declared)} and vendorFiles {sorted(files)} "
                       "must name the same packages")
    pinned = []
    for name, version in declared.items():
        locked = lock.get("packages", {}).get(f"node_modules/{name}", {})
        if locked.get("version") != version:
            raise PinError(f"{name}: package.json says {version!r}, package-lock.json "
                           f"{locked.get('version')!r} (pin exact versions; run npm install --package-lock-only)")
        if not str(locked.get("integrity", "")).startswith("sha512-"):
            raise PinError(f"{name}: package-lock.json has no sha512 integrity")
        pinned.append((name, version, locked["integrity"], files[name]))
    return pinned


def integrity_of(data: bytes) -> str:
    """npm's integrity string (Subresource Integrity, sha512) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def main() -> int:
    manifest_bytes, lock_bytes = MANIFEST.read_bytes(), LOCK.read_bytes()
    pins_sum = hashlib.sha256(manifest_bytes + b"\0" + lock_bytes).hexdigest()
    try:
        packages = pinned_packages(json.loads(manifest_bytes), json.loads(lock_bytes))
    except PinError as e:
        print(f"vendor: {e}", file=sys.stderr)
        return 1
    wanted = [DEST / target for *_, files in packages for target in files.values()]
    if STAMP.exists() and STAMP.read_text() == pins_sum and all(f.exists() for f in wanted):
        return 0
    DEST.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, integrity, files in packages:
            spec = f"{name}@{version}"
            out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()
            tarball = Path(tmp) / out[-1]
            got = integrity_of(tarball.read_bytes())
            if got != integrity:
                print(f"integrity mismatch for {spec}: got {got}, package-lock.json says {integrity}",
                      file=sys.stderr)
                return 1
            with tarfile.open(tarball) as tar:
                for member, target in files.items():
                    (DEST / target).write_bytes(tar.extractfile(member).read())
            print(f"vendor: {spec} ok")
    STAMP.write_text(pins_sum)
    return 0


if __name__ == "__main__":
    sys.exit(main())
