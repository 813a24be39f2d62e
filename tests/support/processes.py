"""The app's own processes, started for a test the way the Procfile starts them: `flask` commands
and RQ workers (`worker.py`) on a test's committed database, Redis and key prefixes; stopping
them, and waiting for what they do."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def process_env(app, **overrides: str) -> dict[str, str]:
    """The environment of a process that serves `app`'s database, Redis, queues, channels,
    media and mail (what `build_app` made), as `LYCEUM_ENV=test`: a server DATABASE_URL
    alone would mean production."""
    config = app.config
    env = {**os.environ, "LYCEUM_ENV": "test", "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "RQ_QUEUE_PREFIX": config["RQ_QUEUE_PREFIX"], "CHANNEL_PREFIX": config["CHANNEL_PREFIX"],
           "RATELIMIT_KEY_PREFIX": config["RATELIMIT_KEY_PREFIX"],
           "MEDIA_STORAGE": config["MEDIA_STORAGE"], "MAIL_DIR": config["MAIL_DIR"],
           "JOBS_INLINE": "true" if config["JOBS_INLINE"] else "false",
           "SESSION_COOKIE_SECURE": "false"}
    if config["REDIS_URL"]:
        env["REDIS_URL"] = config["REDIS_URL"]
    return {**env, **overrides}


def flask_command(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`flask --app wsgi <args>` in another process, to its end; output captured as text."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def start_flask_command(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def start_worker(env: dict[str, str], *queues: str, log_path: Path | None = None) -> subprocess.Popen:
    """`python worker.py [queues]`, as the Procfile's `worker` line runs it, in a session of its
    own; its output into `log_path` (written anew), or discarded."""
    argv = [sys.executable, str(ROOT / "worker.py"), *queues]
    if log_path is None:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (RQ's work horse runs in its own session)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the process and every process it started, at once (a crash)."""
    for pid in [*descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (a worker finishes its job and exits), then SIGKILL if it does not."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_hard(proc)


def wait_for(condition, what: str = "the condition", timeout: float = 60.0):
    """Poll `condition()` until it returns something true, and return that; fail after
    `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} ({timeout} s)")
        time.sleep(0.05)


def start_logged(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`argv` in its own session (so in its own process group), from the project's root, its
    output appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process's group (it was started in a session of its own), then SIGKILL
    the group and every descendant (RQ's work horse runs in a session of its own) if it has
    not ended in `timeout` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    leftovers = descendants(proc.pid) if proc.poll() is None else []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)
