#!/usr/bin/env python3
"""Fetch the pinned front-end files with `npm pack`, verify their sha256, copy them into
app/static/vendor/. Idempotent: files already fetched for the current lockfile are kept."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "vendor.lock.json"
DEST = ROOT / "app" / "static" / "vendor"
STAMP = DEST / ".lock-sha256"


def main() -> int:
    lock_bytes = LOCK.read_bytes()
    lock_sum = hashlib.sha256(lock_bytes).hexdigest()
    packages = json.loads(lock_bytes)["packages"]
    wanted = [DEST / name for p in packages for name in p["files"].values()]
    if STAMP.exists() and STAMP.read_text() == lock_sum and all(f.exists() for f in wanted):
        return 0
    DEST.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in packages:
            out = subprocess.run(["npm", "pack", pkg["spec"], "--silent", "--pack-destination", tmp],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()
            tarball = Path(tmp) / out[-1]
            digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
            if digest != pkg["sha256"]:
                print(f"sha256 mismatch for {pkg['spec']}: got {digest}, lockfile says {pkg['sha256']}",
                      file=sys.stderr)
                return 1
            with tarfile.open(tarball) as tar:
                for member, name in pkg["files"].items():
                    data = tar.extractfile(member).read()
                    (DEST / name).write_bytes(data)
            print(f"vendor: {pkg['spec']} ok")
    STAMP.write_text(lock_sum)
    return 0


if __name__ == "__main__":
    sys.exit(main())
