"""What operators watch (ARCHITECTURE §13): Prometheus figures (`metrics`), the heartbeats of
workers and the clock (`heartbeats`) and the `/healthz` verdict built on them (`health`).
Kernel modules: they read the extensions and the configuration, never a domain.

prometheus_client decides on import whether its values live in this process or in files
that several processes share (`PROMETHEUS_MULTIPROC_DIR`), so the setting is settled here,
before `metrics` imports it: `.env` is loaded first (app.config), an empty value is no
setting, and the folder is made if it is missing."""
from __future__ import annotations

import os
from pathlib import Path

from app.config import env

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _settle_multiprocess_dir() -> None:
    folder = env(MULTIPROC_DIR)
    if folder is None:
        os.environ.pop(MULTIPROC_DIR, None)
    else:
        Path(folder).mkdir(parents=True, exist_ok=True)


_settle_multiprocess_dir()
