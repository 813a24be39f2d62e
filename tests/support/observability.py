"""What an operator's tools read: `/metrics` parsed as Prometheus does, the figures a single
gunicorn worker wrote in multiprocess mode, and gunicorn started as the Procfile starts it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from tests.support.processes import ROOT


def figure(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none):
    `figure(scrape, "lyceum_http_requests_total", endpoint="main.health")`."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def scrape(client, **kwargs) -> str:
    resp = client.get("/metrics", **kwargs)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def figures_by_process(folder: Path, name: str, **labels: str) -> dict[int, float]:
    """In multiprocess mode: each process's own figure, read from its counter file alone."""
    found = {}
    for path in Path(folder).glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        alone = Path(tempfile.mkdtemp(prefix="lyceum-prom-"))
        try:
            shutil.copy(path, alone / path.name)
            registry = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(registry, path=str(alone))
            found[pid] = figure(generate_latest(registry).decode(), name, **labels)
        finally:
            shutil.rmtree(alone, ignore_errors=True)
    return found


def start_gunicorn(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`gunicorn -c gunicorn.conf.py wsgi:app` (the Procfile's `web`), its lines in `log_path`;
    give it `PORT=0` and `LOG_FORMAT=json` and read the port with `listening_port`."""
    with open(log_path, "wb") as log_file:
        return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def log_entries(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]


def listening_port(log_path: Path) -> int | None:
    for entry in log_entries(log_path):
        if entry["message"].startswith("Listening at: "):
            return int(entry["message"].split()[2].rsplit(":", 1)[1])
    return None


def booted_workers(log_path: Path) -> set[int]:
    return {int(entry["message"].rsplit(" ", 1)[1]) for entry in log_entries(log_path)
            if entry["message"].startswith("Booting worker with pid")}
