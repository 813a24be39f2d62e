"""Lyceum in its production shape on this machine, from the files a deployment uses.

`Deployment` creates a new PostgreSQL database, runs the Procfile's `release` line on it,
then starts, with exactly the Procfile's commands and deploy/lyceum.env's settings:
two `web` processes (gunicorn) on two free ports, the `worker` and the `clock`, and
Debian's nginx on a free port running deploy/nginx/lyceum.conf unchanged. Only two of
nginx's files are rendered for this machine: upstream.conf (the two local ports instead of
compose's web1/web2) and lyceum.d/listen.conf (a local port instead of 80, and a response
header naming the web process nginx chose, so a test can tell which process serves a
client). Everything is stopped, and the database and Redis keys removed, at the end.

It has no pytest in it: the production-shape test uses it as a fixture, and the bench can
drive it from a script:

    with Deployment() as site:       # DATABASE_URL / REDIS_URL name the servers
        print(site.url)

Test settings on top of lyceum.env (`overrides`): LYCEUM_ENV=development, production's own
configuration with the local payment gateway and the development secrets allowed (production
would refuse both), not the suite's `test` one, which switches off CSRF, slows nothing down
for password hashing and lets presence announce 20 times a second; the new
database, REDIS_URL with key, queue and channel prefixes of this run, media and mail in a
temporary directory, plain-HTTP cookies, one gunicorn worker per web process.
"""
from __future__ import annotations

import os
import re
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import redis
from dotenv import dotenv_values

from app.extensions import db
from app.factory import create_app
from tests.support.databases import create_test_database
from tests.support.processes import kill_hard, start_logged, stop_group

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile"
SETTINGS_FILE = ROOT / "deploy" / "lyceum.env"
NGINX_FILES = ROOT / "deploy" / "nginx"
NGINX = os.environ.get("LYCEUM_NGINX", "/usr/sbin/nginx")
# Added by the rendered listen file only: nginx's $upstream_addr, the web process it chose.
UPSTREAM_HEADER = "X-Lyceum-Upstream"
START_SECONDS = 120.0


class DeploymentError(RuntimeError):
    pass


def procfile_commands(path: Path = PROCFILE) -> dict[str, list[str]]:
    """Each Procfile process's argv, without its leading `env NAME=value …` (the environment
    is given separately: compose's env_file, this harness's settings)."""
    commands = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        argv = shlex.split(command)
        if argv[:1] == ["env"]:
            argv = argv[1:]
            while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):
                argv = argv[1:]
        commands[name.strip()] = argv
    return commands


def deployment_settings(path: Path = SETTINGS_FILE) -> dict[str, str]:
    """deploy/lyceum.env: the deployment's non-secret settings."""
    return {name: value or "" for name, value in dotenv_values(path).items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str, timeout: float = 5.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


class Deployment:
    """The running deployment: `url` (nginx), `processes` by name (web1, web2, …, worker,
    clock, nginx), `web_ports`, `env` (what every Lyceum process got), `database_url`."""

    def __init__(self, *, database_url: str | None = None, redis_url: str | None = None,
                 webs: int = 2, web_concurrency: int = 1, overrides: dict[str, str] | None = None,
                 nginx: str = NGINX, nginx_connections: int = 1024, workdir: str | Path | None = None):
        self.server_url = database_url or os.environ.get("DATABASE_URL", "")
        self.redis_url = redis_url or os.environ.get("REDIS_URL", "")
        if not self.server_url.startswith(("postgres://", "postgresql")) or not self.redis_url:
            raise DeploymentError("a deployment needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL")
        self.nginx = nginx
        self.nginx_connections = nginx_connections  # per nginx process (the bench needs thousands)
        self.web_names = [f"web{n}" for n in range(1, webs + 1)]
        self.web_concurrency = web_concurrency
        self.overrides = dict(overrides or {})
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lyceum-deployment-"))
        self.commands = procfile_commands()
        self.prefix = f"lyceum-deploy-{uuid.uuid4().hex[:8]}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.web_ports: dict[str, int] = {}
        self.port = 0
        self.database_url = ""
        self._drop_database = None
        self._app = None
        self.env: dict[str, str] = {}

    # --- the whole -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not os.access(self.nginx, os.X_OK):
            raise DeploymentError(f"{self.nginx} is missing: install Debian's nginx (apt-get install nginx); "
                                  ".ci/run does")
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        self.database_url, self._drop_database = create_test_database(self.server_url)
        bin_dir = str(Path(sys.executable).parent)  # gunicorn, flask, python of this environment
        self.env = {
            **os.environ, **deployment_settings(),
            "LYCEUM_ENV": "development", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "RQ_QUEUE_PREFIX": f"{self.prefix}:", "CHANNEL_PREFIX": self.prefix,
            "RATELIMIT_KEY_PREFIX": self.prefix,
            "MEDIA_STORAGE": str(self.dir / "media"), "MAIL_DIR": str(self.dir / "mail"),
            "SESSION_COOKIE_SECURE": "false", "WEB_CONCURRENCY": str(self.web_concurrency),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.overrides,
        }
        for name in ("JOBS_INLINE", "REDIS_PUBSUB_URL", "DATABASE_REPLICA_URL", "PROMETHEUS_MULTIPROC_DIR"):
            if name not in self.overrides:
                self.env.pop(name, None)
        release = subprocess.run(self.commands["release"], cwd=ROOT, env=self.env, capture_output=True,
                                 text=True, timeout=600)
        if release.returncode:
            raise DeploymentError(f"the release command failed:\n{release.stdout}\n{release.stderr}")
        for name in self.web_names:
            self.web_ports[name] = free_port()
            self.start_process(name)
        self.start_process("worker")
        self.start_process("clock")
        for name in self.web_names:
            self.wait_until(lambda name=name: self._answers(f"http://127.0.0.1:{self.web_ports[name]}/healthz", name),
                            f"{name} answering /healthz", START_SECONDS)
        self.port = free_port()
        self._render_nginx()
        self.start_process("nginx")
        self.wait_until(lambda: self._answers(f"{self.url}/healthz", "nginx"), "/healthz through nginx",
                        START_SECONDS)

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL), drop the database, remove the run's
        Redis keys and files."""
        for name in ["nginx", *self.web_names, "worker", "clock"]:
            proc = self.processes.pop(name, None)
            if proc is not None:
                stop_group(proc, timeout=40)
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()
            self._app = None
        if self._drop_database is not None:
            self._drop_database()
            self._drop_database = None
        if self.redis_url:
            client = redis.Redis.from_url(self.redis_url)
            for key in client.scan_iter(f"*{self.prefix}*"):
                client.delete(key)
            client.close()
        if not os.environ.get("LYCEUM_KEEP_DEPLOYMENT"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- one process -------------------------------------------------------------------------

    def start_process(self, name: str) -> subprocess.Popen:
        """(Re)start one process: web1…, worker, clock (their Procfile lines) or nginx."""
        if name == "nginx":
            argv = [self.nginx, "-p", str(self.dir / "nginx"), "-c", str(self.dir / "nginx" / "nginx.conf"),
                    "-e", str(self.dir / "nginx" / "error.log")]
            env = dict(os.environ)
        elif name in self.web_names:
            # Each web process (a container in compose) sums its own gunicorn workers' metrics.
            metrics = self.dir / "metrics" / name
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            argv, env = self.commands["web"], {**self.env, "PORT": str(self.web_ports[name]),
                                               "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        else:
            argv, env = self.commands[name], self.env
        proc = self.processes[name] = start_logged(argv, env, self.log_path(name))
        return proc

    def revive(self) -> None:
        """Start again every process that is not running (a test stopped or killed it), and
        wait until the web processes answer."""
        for name in [*self.web_names, "worker", "clock", "nginx"]:
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                self.processes.pop(name, None)
                self.start_process(name)
        for name in self.web_names:
            self.wait_until(lambda name=name: self._answers(f"http://127.0.0.1:{self.web_ports[name]}/healthz", name),
                            f"{name} answering /healthz", START_SECONDS)

    def terminate(self, name: str, timeout: float = 60) -> None:
        """SIGTERM to the process itself (what a deploy or `docker stop` sends), until it ends."""
        proc = self.processes.pop(name)
        proc.terminate()
        proc.wait(timeout)

    def kill(self, name: str) -> None:
        """SIGKILL the process and every process it started (a crash, an OOM kill)."""
        kill_hard(self.processes.pop(name))

    def upstream(self, name: str) -> str:
        """How nginx names the web process `name` (the UPSTREAM_HEADER value)."""
        return f"127.0.0.1:{self.web_ports[name]}"

    def web_named(self, upstream: str) -> str:
        return next(name for name in self.web_names if self.upstream(name) == upstream)

    def log_path(self, name: str) -> Path:
        return self.dir / "logs" / f"{name}.log"

    def logs(self, lines: int = 15) -> str:
        """The end of every process's output (for a failure report)."""
        paths = [*sorted((self.dir / "logs").glob("*.log")), self.dir / "nginx" / "error.log"]
        parts = []
        for path in paths:
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # --- the app's own view, for setting up data and checking it -----------------------------

    def app(self):
        """An app in this process on the deployment's database, Redis and prefixes (what the
        processes run), for data a test sets up beforehand and checks afterwards."""
        if self._app is None:
            self._app = create_app({
                "LYCEUM_ENV": "test", "SQLALCHEMY_DATABASE_URI": self.database_url,
                "REDIS_URL": self.redis_url, "JOBS_INLINE": False, "REDIS_PUBSUB_URL": None,
                "DATABASE_REPLICA_URL": None,
                "RQ_QUEUE_PREFIX": self.env["RQ_QUEUE_PREFIX"], "CHANNEL_PREFIX": self.prefix,
                "RATELIMIT_KEY_PREFIX": self.prefix, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": self.prefix},
                "MEDIA_STORAGE": self.env["MEDIA_STORAGE"], "MAIL_DIR": self.env["MAIL_DIR"],
                "SECRET_KEY": self.env.get("SECRET_KEY") or None, "SESSION_COOKIE_SECURE": False})
        return self._app

    # --- waiting -------------------------------------------------------------------------------

    def wait_until(self, predicate, what: str, timeout: float = 60.0):
        """Until `predicate()` is truthy (its value is returned); fails naming `what`, with
        the processes' output, if it is not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")
            time.sleep(0.2)

    def _answers(self, url: str, name: str) -> bool:
        proc = self.processes.get(name)
        if proc is not None and proc.poll() is not None:
            raise DeploymentError(f"{name} exited with status {proc.returncode}\n{self.logs()}")
        status = _status(url)
        return status is not None and status < 500

    def _render_nginx(self) -> None:
        """deploy/nginx copied as conf.d, with this machine's upstream and listen files, under
        a main nginx.conf that keeps every file nginx writes in this run's directory."""
        root = self.dir / "nginx"
        shutil.copytree(NGINX_FILES, root / "conf.d")
        upstream = root / "conf.d" / "upstream.conf"
        servers = "".join(f"    server {self.upstream(name)};\n" for name in self.web_names)
        text, count = re.subn(r"(?m)^[ \t]*server[ \t]+\S+;[ \t]*\n", "", upstream.read_text())
        if not count:
            raise DeploymentError(f"{upstream.name} names no server to replace")
        upstream.write_text(re.sub(r"(upstream\s+lyceum_web\s*\{\n)", lambda m: m.group(1) + servers, text, count=1))
        (root / "conf.d" / "lyceum.d" / "listen.conf").write_text(
            f"listen 127.0.0.1:{self.port};\n"
            f"add_header {UPSTREAM_HEADER} $upstream_addr always;\n")
        (root / "nginx.conf").write_text(f"""\
daemon off;
worker_processes 2;
pid {root}/nginx.pid;
worker_rlimit_nofile {min(2 * self.nginx_connections, resource.getrlimit(resource.RLIMIT_NOFILE)[1])};
events {{ worker_connections {self.nginx_connections}; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    log_format upstreams '$remote_addr "$request" $status $request_id $upstream_addr $request_time';
    access_log {root}/access.log upstreams;
    include conf.d/*.conf;
}}
""")
        check = subprocess.run([self.nginx, "-t", "-p", str(root), "-c", str(root / "nginx.conf"),
                                "-e", str(root / "error.log")], capture_output=True, text=True)
        if check.returncode:
            raise DeploymentError(f"nginx refuses the configuration:\n{check.stderr}")
