"""The deploy files say the same thing as what the production-shape test runs.

No Docker engine runs on the CI machine, so compose.yaml and the Dockerfile are never started
here: tests/deployment/ starts the Procfile's commands with deploy/lyceum.env behind
deploy/nginx instead. These tests keep the container files on those same commands and
settings, and keep README's configuration table, .env.example and app/config.py in step.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from dotenv import dotenv_values

from tests.support.deployment import procfile_commands

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()

# compose service -> the Procfile process it runs
PROCESSES = {"web1": "web", "web2": "web", "worker": "worker", "clock": "clock", "migrate": "release"}


def readme_settings() -> set[str]:
    """Every variable named in the first column of README's Configuration table."""
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_compose_service_runs_a_procfile_command():
    commands = procfile_commands()
    for service, process in PROCESSES.items():
        assert shlex.split(SERVICES[service]["command"]) == commands[process], service
    assert set(commands) == set(PROCESSES.values())


def test_the_image_runs_the_web_command_as_a_user_without_build_tools():
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    cmd = re.search(r"^CMD (\[.*\])$", final_stage, re.M).group(1)
    assert yaml.safe_load(cmd) == procfile_commands()["web"]
    assert re.search(r"^ENV .*LYCEUM_ENV=production", final_stage, re.M | re.S)
    user = re.search(r"^USER (\S+)$", final_stage, re.M).group(1)
    assert user not in ("root", "0")
    assert "/healthz" in re.search(r"^HEALTHCHECK .*(?:\n  .*)*", final_stage, re.M).group(0)
    assert not re.search(r"apt-get install|gcc|build-essential|npm", final_stage)
    assert "python:3.11-slim" in DOCKERFILE


def test_the_image_installs_what_the_locks_pin_hash_checked():
    build_stage = DOCKERFILE.rsplit("\nFROM ", 1)[0]
    assert re.search(r"^COPY requirements\.lock ", build_stage, re.M)
    assert re.search(r"^RUN \S+/pip install --require-hashes --requirement \S*requirements\.lock$", build_stage, re.M)
    assert re.search(r"^COPY package\.json package-lock\.json ", build_stage, re.M)


def test_compose_gives_every_lyceum_process_the_deployments_settings():
    for service in PROCESSES:
        assert SERVICES[service]["env_file"][0] == "deploy/lyceum.env", service
        assert SERVICES[service]["image"] == "lyceum:latest"
    nginx_files = SERVICES["nginx"]["volumes"]
    assert "./deploy/nginx:/etc/nginx/conf.d:ro" in nginx_files
    assert {"web1", "web2"} <= set(SERVICES["nginx"]["depends_on"])


def test_each_web_process_sums_its_workers_metrics_in_a_folder_the_image_lets_it_write():
    folders = {SERVICES[web]["environment"]["PROMETHEUS_MULTIPROC_DIR"] for web in ("web1", "web2")}
    assert len(folders) == 1
    folder = folders.pop()
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert re.search(rf"mkdir -p [^\n]*{re.escape(folder)}", final_stage)
    assert re.search(rf"chown [^\n]*{re.escape(folder.rsplit('/', 1)[0])}", final_stage)
    for service in ("worker", "clock", "migrate"):  # they serve no /metrics
        assert "PROMETHEUS_MULTIPROC_DIR" not in SERVICES[service].get("environment", {})


def test_every_setting_is_documented_and_in_env_example():
    documented = readme_settings()
    read = set(re.findall(r"env(?:_int|_bool)?\(\s*\"([A-Z][A-Z0-9_]+)\"", (ROOT / "app/config.py").read_text()))
    assert read - documented == set(), "settings app/config.py reads but README does not list"
    example = set(dotenv_values(ROOT / ".env.example")) | set(
        re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented - example == set(), "README settings missing from .env.example"
    deployment = set(dotenv_values(ROOT / "deploy" / "lyceum.env"))
    compose_env = {name for service in PROCESSES for name in SERVICES[service].get("environment", {})}
    assert (deployment | compose_env) - documented == set()
