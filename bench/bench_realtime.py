"""Real-time benchmark (issue 7) on PostgreSQL + Redis with gunicorn gevent workers.

    createdb -h 127.0.0.1 -U postgres lyceum_bench_rt
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lyceum_bench_rt REDIS_URL=redis://127.0.0.1:6379/5 \
        python bench/bench_realtime.py [--chat-clients 2000] [--idle-sockets 10000] [--sse-streams 5000]

Three measures, each against freshly started servers:
1. chat fan-out: N clients connected to ONE room over 2 gevent processes; a member sends a
   message on its socket; the time until each client has it (p50/p99 over every delivery
   of every message);
2. idle sockets: M sockets held open on ONE gevent process; its resident memory (RSS) and
   the memory per socket;
3. SSE: S users each with an open `/notifications/stream` over 2 processes; one stored
   notification per user, published in one Redis pipeline; the time from the publish to
   each stream receiving its toast.

With `--through-nginx` the chat and SSE measures run on the production shape instead
(tests/support/deployment.py: nginx with deploy/nginx/lyceum.conf in front of TWO gunicorn
processes of one gevent worker each, on two ports, plus the worker and the clock, on a new
database of DATABASE_URL's server); every client connects to nginx, which spreads them over
both processes, so most deliveries cross from one process to the other through Redis.

The load generator is a hand-rolled epoll client (HTTP upgrade, frame parsing, pong) so that
its own cost stays in microseconds per message on this 2-core machine; it needs no library.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks use the local gateway and throwaway data: run as development (a server
# DATABASE_URL alone would mean production, which refuses development settings).
os.environ.setdefault("LYCEUM_ENV", "development")
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-key"


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- data -------------------------------------------------------------------------------------
def bench_app():
    """The app of a single-gunicorn run (DATABASE_URL, REDIS_URL as given)."""
    os.environ.setdefault("SECRET_KEY", SECRET)
    from app.factory import create_app

    return create_app({"SECRET_KEY": SECRET})


def prepare(app, users: int) -> dict:
    """A published free course, its creator, `users` enrolled learners and their cookies."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        upgrade()
        db.session.execute(text(
            "TRUNCATE users, course, enrollment, chat_message, notification RESTART IDENTITY CASCADE"))
        db.session.commit()
        creator_id = db.session.execute(text(
            "INSERT INTO users (email, display_name, headline, bio, created_at, balance) "
            "VALUES ('creator@bench.test', 'Bench Creator', '', '', now(), 0) RETURNING id")).scalar()
        course_id = db.session.execute(text(
            "INSERT INTO course (creator_id, title, slug, subtitle, description, status, price_minor, "
            "currency, level, language, created_at, updated_at, published_at) VALUES "
            "(:c, 'Benchmark room', 'benchmark-room', '', '', 'published', 0, 'USD', 'beginner', 'en', "
            "now(), now(), now()) RETURNING id"), {"c": creator_id}).scalar()
        db.session.execute(text(
            "INSERT INTO users (email, display_name, headline, bio, created_at, balance) "
            "SELECT 'u' || g || '@bench.test', 'Learner ' || g, '', '', now(), 0 "
            "FROM generate_series(1, :n) g"), {"n": users})
        db.session.execute(text(
            "INSERT INTO enrollment (course_id, learner_id, source, payment_status, enrolled_at) "
            "SELECT :course, id, 'free', 'none', now() FROM users WHERE id <> :c"),
            {"course": course_id, "c": creator_id})
        db.session.commit()
        from app.accounts.models import User
        from app.accounts.sessions import start_session
        from app.dbtypes import utcnow
        serializer = app.session_interface.get_signing_serializer(app)
        cookies = {}
        for user in db.session.scalars(db.select(User).order_by(User.id)):
            start_session(user, ip="127.0.0.1", user_agent="bench", now=utcnow())  # a server-side session
            cookies[user.id] = serializer.dumps({"_user_id": user.get_id(), "_fresh": True})
        db.session.commit()
        # Planner statistics for the rows just inserted, as autovacuum would have them on a
        # live database: without them a new database (--through-nginx) plans each socket's
        # membership check as a scan, and admitting 2,000 sockets took ~15 s instead of ~1.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return {"creator_id": creator_id, "course_id": course_id, "cookies": cookies}


# --- servers ------------------------------------------------------------------------------------
def serve(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **BENCH_SETTINGS, "WEB_CONCURRENCY": str(workers)}
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
           "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--backlog", "4096",
           "--access-logfile", "/dev/null", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()


class OneGunicorn:
    """A gunicorn of `workers` gevent processes on `port`, started for one measure."""

    def __init__(self, port: int, workers: int):
        self.port, self.workers = port, workers

    def __enter__(self) -> OneGunicorn:
        self.proc = serve(self.port, self.workers)
        return self

    def __exit__(self, *exc) -> None:
        stop(self.proc)

    def profile(self, name: str, seconds: int) -> subprocess.Popen | None:
        return profile_worker(self.proc, name, seconds)


class BehindNginx:
    """The running deployment (already started): every measure connects to its nginx."""

    def __init__(self, site):
        self.site, self.port = site, site.port

    def __enter__(self) -> BehindNginx:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def profile(self, name: str, seconds: int) -> None:
        return None


# What the benchmark changes on every server: no flood limit, no rate limits, room for
# thousands of connections, quiet logs.
BENCH_SETTINGS = {"SECRET_KEY": SECRET, "WORKER_CONNECTIONS": "12000", "MESSAGE_RATE_COUNT": "0",
                  "RATELIMIT_ENABLED": "0", "SESSION_COOKIE_SECURE": "0", "LOG_LEVEL": "WARNING",
                  "LIVE_CONNECTIONS_PER_USER": "0"}


def profile_worker(server: subprocess.Popen, name: str, seconds: int) -> subprocess.Popen | None:
    """With LYCEUM_BENCH_PROFILE=1, sample one worker with py-spy (collapsed stacks in
    bench/results/profile-<name>.txt) while the measure runs."""
    if not os.environ.get("LYCEUM_BENCH_PROFILE"):
        return None
    RESULTS.mkdir(exist_ok=True)
    pid = worker_pids(server.pid)[0]
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(seconds),
                             "--format", "raw", "--rate", "200", "--nonblocking",
                             "--output", str(RESULTS / f"profile-{name}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- a minimal epoll client ---------------------------------------------------------------------
class Conn:
    __slots__ = ("sock", "buf", "open", "closed", "kind", "user_id", "seen", "upstream")

    def __init__(self, sock, kind, user_id):
        self.sock, self.kind, self.user_id = sock, kind, user_id
        self.buf, self.open, self.closed, self.seen = b"", False, False, {}
        self.upstream = None  # the web process nginx chose (through nginx only)


UPSTREAM = re.compile(rb"\r\nX-Lyceum-Upstream: *([^\r]+)", re.I)


def upstream_of(head: bytes) -> str | None:
    """The web process behind nginx that answered, from the response head."""
    found = UPSTREAM.search(head)
    return found.group(1).decode() if found else None


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Fleet:
    """Many connections on one epoll; `pump()` reads whatever arrived and stamps markers."""

    def __init__(self, port: int):
        self.port = port
        self.ep = select.epoll()
        self.conns: dict[int, Conn] = {}
        self.close_codes: dict[int, int] = {}
        self.counts: dict[bytes, int] = {}  # connections that have seen each marker

    def open(self, path: str, cookie: str, kind: str, user_id: int) -> Conn:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect(("127.0.0.1", self.port))
        sock.setblocking(False)
        if kind == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                       f"Cookie: session={cookie}\r\n\r\n")
        else:
            request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: text/event-stream\r\n"
                       f"Cookie: session={cookie}\r\n\r\n")
        sock.sendall(request.encode())
        conn = Conn(sock, kind, user_id)
        self.conns[sock.fileno()] = conn
        self.ep.register(sock.fileno(), select.EPOLLIN)
        return conn

    def pump(self, timeout: float, markers: tuple[bytes, ...] = ()) -> int:
        got = 0
        for fd, _ in self.ep.poll(timeout, 16384):
            conn = self.conns.get(fd)
            if conn is None:
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            now = time.perf_counter()
            if not data:
                conn.closed = True
                self.ep.unregister(fd)
                continue
            if conn.kind == "ws":
                got += self._ws_data(conn, data, now, markers)
            else:
                if not conn.open and b"\r\n\r\n" in data:
                    conn.open = data.startswith(b"HTTP/1.1 200")
                    conn.upstream = upstream_of(data)
                for marker in markers:
                    if marker in data and marker not in conn.seen:
                        conn.seen[marker] = now
                        self.counts[marker] = self.counts.get(marker, 0) + 1
                        got += 1
        return got

    def _ws_data(self, conn: Conn, data: bytes, now: float, markers) -> int:
        buf = conn.buf + data
        got = 0
        if not conn.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                conn.buf = buf
                return 0
            if not buf.startswith(b"HTTP/1.1 101"):
                conn.closed = True
                return 0
            conn.open = True
            conn.upstream = upstream_of(buf[:end])
            buf = buf[end + 4:]
        while len(buf) >= 2:
            opcode, n, offset = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, offset = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, offset = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < offset + n:
                break
            payload, buf = buf[offset:offset + n], buf[offset + n:]
            if opcode == 9:
                conn.sock.sendall(ws_frame(payload, 0xA))
            elif opcode == 8:
                conn.closed = True
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self.close_codes[code] = self.close_codes.get(code, 0) + 1
            else:
                for marker in markers:
                    if marker in payload and marker not in conn.seen:
                        conn.seen[marker] = now
                        self.counts[marker] = self.counts.get(marker, 0) + 1
                        got += 1
        conn.buf = buf
        return got

    def spread(self) -> dict[str, int]:
        """Open connections by the web process serving them (through nginx)."""
        counts: dict[str, int] = {}
        for conn in self.conns.values():
            if conn.open and conn.upstream:
                counts[conn.upstream] = counts.get(conn.upstream, 0) + 1
        return counts

    def open_count(self) -> int:
        return sum(1 for c in self.conns.values() if c.open and not c.closed)

    def settle(self, want: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.open_count() < want and time.monotonic() < deadline:
            self.pump(0.05)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # drain backlogs and presence updates
            self.pump(0.05)

    def close(self) -> None:
        for conn in self.conns.values():
            conn.sock.close()
        self.ep.close()


def open_many(fleet: Fleet, items, kind: str, batch: int = 200) -> None:
    for i, (path, cookie, user_id) in enumerate(items):
        fleet.open(path, cookie, kind, user_id)
        if i % batch == batch - 1:
            fleet.pump(0.01)


# --- measures -----------------------------------------------------------------------------------
def warm_up(fleet: Fleet, sender: Conn, connected: int, timeout: float = 120) -> float:
    """Send unmeasured messages until one reaches every socket; the seconds that took.

    A socket counts as open at its 101 response, but the server admits it afterwards
    (membership check, subscription): until all are admitted a message reaches only some, so
    the measured messages start once a warm-up message has reached all of them."""
    started = time.monotonic()
    for k in range(1000):
        marker = f"bench-warm-{k}-{os.getpid()}".encode()
        sender.sock.sendall(ws_frame(json.dumps({"body": marker.decode(), "HEADERS": {}}).encode()))
        deadline, reached = time.monotonic() + 5, 0
        while reached < connected and time.monotonic() < deadline:
            fleet.pump(0.05, (marker,))
            reached = sum(1 for c in fleet.conns.values() if c is not sender and marker in c.seen)
        if reached >= connected or time.monotonic() - started > timeout:
            break
    return round(time.monotonic() - started, 1)


def chat_fanout(data: dict, clients: int, messages: int, servers) -> dict:
    with servers:
        fleet = Fleet(servers.port)
        course = data["course_id"]
        learners = [uid for uid in data["cookies"] if uid != data["creator_id"]][:clients]
        open_many(fleet, [(f"/ws/chat/{course}", data["cookies"][u], u) for u in learners], "ws")
        fleet.settle(len(learners), 120)
        connected = fleet.open_count()
        sender = fleet.open(f"/ws/chat/{course}", data["cookies"][data["creator_id"]], "ws",
                            data["creator_id"])
        fleet.settle(connected + 1, 10)
        latencies: list[float] = []
        profiler = servers.profile("chat", messages + 2)
        per_message: list = []
        markers: list[bytes] = []
        admitted_after = warm_up(fleet, sender, connected)
        for n in range(messages):
            marker = f"bench-{n}-{os.getpid()}".encode()
            started = time.perf_counter()
            sender.sock.sendall(ws_frame(json.dumps({"body": marker.decode(), "HEADERS": {}}).encode()))
            deadline = time.monotonic() + 5
            received = 0
            markers.append(marker)
            while received < connected and time.monotonic() < deadline:
                fleet.pump(0.05, tuple(markers))
                received = fleet.counts.get(marker, 0)
            these = [(c.seen[marker] - started) * 1000 for c in fleet.conns.values()
                     if c is not sender and marker in c.seen]
            missing = [c.user_id for c in fleet.conns.values() if c is not sender and marker not in c.seen]
            if missing:
                print(f"message {n}: {len(missing)} sockets without it, e.g. users {missing[:5]}", flush=True)
            latencies += these
            per_message.append((round(min(these), 1), round(percentile(these, 50), 1), round(max(these), 1))
                               if these else None)
            time.sleep(0.3)
        end = time.monotonic() + 5
        while time.monotonic() < end:  # anything late still arrives (and counts as late)
            fleet.pump(0.05, tuple(markers))
        spread = fleet.spread()
        missing_at_end = sum(1 for c in fleet.conns.values() for m in markers
                             if c is not sender and m not in c.seen)
        fleet.close()
        if profiler:
            profiler.wait()
        return {"clients": connected, "never_delivered": missing_at_end, "messages": messages,
                "by_process": spread, "all_admitted_after_s": admitted_after,
                "deliveries": len(latencies),
                "closed": sum(1 for c in fleet.conns.values() if c.closed), "close_codes": fleet.close_codes,
                "per_message_min_p50_max": per_message,
                "expected": connected * messages,
                "p50": percentile(latencies, 50) if latencies else None,
                "p99": percentile(latencies, 99) if latencies else None,
                "max": max(latencies) if latencies else None}


def idle_sockets(data: dict, count: int, port: int) -> dict:
    server = serve(port, 1)
    try:
        time.sleep(1)
        worker = worker_pids(server.pid)[0]
        before = rss_mib(worker)
        fleet = Fleet(port)
        cookies = list(data["cookies"].items())
        items = [(f"/ws/chat/{data['course_id']}", cookies[i % len(cookies)][1], cookies[i % len(cookies)][0])
                 for i in range(count)]
        open_many(fleet, items, "ws", batch=100)
        fleet.settle(count, 300)
        opened = fleet.open_count()
        time.sleep(3)
        fleet.pump(0.1)
        after = rss_mib(worker)
        fleet.close()
        return {"sockets": opened, "rss_before_mib": round(before, 1), "rss_after_mib": round(after, 1),
                "kib_per_socket": round((after - before) * 1024 / max(opened, 1), 1)}
    finally:
        stop(server)


def sse_fanout(app, data: dict, streams: int, servers, rounds: int = 3) -> dict:
    import redis
    from sqlalchemy import text

    from app.extensions import db
    from app.messaging import channels

    with servers:
        fleet = Fleet(servers.port)
        users = [uid for uid in data["cookies"] if uid != data["creator_id"]][:streams]
        open_many(fleet, [("/notifications/stream", data["cookies"][u], u) for u in users], "sse")
        fleet.settle(len(users), 120)
        connected = fleet.open_count()
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        latencies: list[float] = []
        profiler = servers.profile("sse", rounds + 2)
        with app.app_context():
            for r in range(rounds):
                marker = f"bench-sse-{r}-{os.getpid()}"
                ids = db.session.execute(text(
                    "INSERT INTO notification (user_id, kind, data, created_at) "
                    "SELECT u, 'welcome', CAST(:data AS json), now() FROM unnest(CAST(:users AS int[])) u "
                    "RETURNING id, user_id"), {"data": json.dumps({"name": marker}), "users": users}).all()
                db.session.commit()
                # What app.messaging.subscribers.publish_notification sends, toast rendered
                # once per notification as it does, published in one pipeline.
                from app.messaging.models import Notification
                from app.messaging.subscribers import notification_event
                with app.test_request_context():
                    events = [notification_event(note, 1) for note in db.session.scalars(
                        db.select(Notification).where(Notification.id.in_([i for i, _ in ids])))]
                pipe = client.pipeline(transaction=False)
                owner = dict(ids)
                for event in events:
                    pipe.publish(channels.user_notify(owner[event["id"]]), json.dumps(event))
                started = time.perf_counter()
                pipe.execute()
                mark = marker.encode()
                deadline = time.monotonic() + 10
                received = 0
                while received < connected and time.monotonic() < deadline:
                    received += fleet.pump(0.05, (mark,))
                latencies += [(c.seen[mark] - started) * 1000 for c in fleet.conns.values() if mark in c.seen]
                time.sleep(0.5)
        fleet.close()
        if profiler:
            profiler.wait()
        spread = fleet.spread()
        return {"streams": connected, "by_process": spread, "rounds": rounds, "deliveries": len(latencies),
                "expected": connected * rounds,
                "p50": percentile(latencies, 50) if latencies else None,
                "p99": percentile(latencies, 99) if latencies else None,
                "max": max(latencies) if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chat-clients", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--idle-sockets", type=int, default=10000)
    parser.add_argument("--sse-streams", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--only", choices=("chat", "idle", "sse"))
    parser.add_argument("--through-nginx", action="store_true",
                        help="chat and SSE through nginx across two web processes (the production shape)")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL (see the docstring).")
    users = max(args.chat_clients, args.sse_streams) + 1
    results = {}
    if args.through_nginx:
        from tests.support.deployment import Deployment

        # two connections per client in nginx (client and upstream), over its 2 processes
        with Deployment(overrides=BENCH_SETTINGS, nginx_connections=4 * users + 1024) as site:
            app = site.app()
            data = prepare(app, users)
            if args.only in (None, "chat"):
                results["chat_through_nginx"] = chat_fanout(data, args.chat_clients, args.messages,
                                                            BehindNginx(site))
                print("chat through nginx", results["chat_through_nginx"], flush=True)
            if args.only in (None, "sse"):
                results["sse_through_nginx"] = sse_fanout(app, data, args.sse_streams, BehindNginx(site))
                print("sse through nginx", results["sse_through_nginx"], flush=True)
    else:
        app = bench_app()
        data = prepare(app, users)
        if args.only in (None, "chat"):
            results["chat"] = chat_fanout(data, args.chat_clients, args.messages, OneGunicorn(args.port, 2))
            print("chat", results["chat"], flush=True)
        if args.only in (None, "idle"):
            results["idle"] = idle_sockets(data, args.idle_sockets, args.port + 1)
            print("idle", results["idle"], flush=True)
        if args.only in (None, "sse"):
            results["sse"] = sse_fanout(app, data, args.sse_streams, OneGunicorn(args.port + 2, 2))
            print("sse", results["sse"], flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"realtime-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
