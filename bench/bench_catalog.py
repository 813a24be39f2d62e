"""Discovery benchmark on PostgreSQL (issue 5): the catalog page against a bare Flask route
under the same gunicorn config, and the search query alone in the app process. The JSON API's
catalog search and course (issue 16) are measured beside the pages that show the same thing.

    DATABASE_URL=postgresql://…/lyceum_bench REDIS_URL=redis://127.0.0.1:6379/3 \
        python bench/bench_catalog.py            # after bench/generate_catalog.py

    python bench/bench_catalog.py --search-only   # only the in-process search timings
    python bench/bench_catalog.py --per-request   # only each page and API answer, one at a time

Needs `wrk` (Debian: apt-get install wrk). Prints a Markdown table and writes the raw output
to bench/results/.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks use the local gateway and throwaway data: run as development (a server
# DATABASE_URL alone would mean production, which refuses development settings).
os.environ.setdefault("LYCEUM_ENV", "development")
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
CATALOG_PATH = "/courses/?q=python&price=paid&level=beginner&sort=rating"
QUERY = {"q": "python", "price": "paid", "level": "beginner", "sort": "rating"}
API_SEARCH_PATH = "/api/v1/courses?q=python&price=paid&level=beginner&sort=rating"
COURSE_SLUG = "bench-4242"  # generate_catalog.py's courses have no syllabus: this one gets one
COURSE_PATH = f"/courses/{COURSE_SLUG}"
API_COURSE_PATH = f"/api/v1/courses/{COURSE_SLUG}"


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def search_alone(runs: int = 400) -> dict:
    from app.discovery.search import parse_query, search_courses
    from app.extensions import db
    from app.factory import create_app

    app = create_app()
    with app.app_context():
        query, _ = parse_query(QUERY)
        for _ in range(20):  # warm up caches and the connection pool
            search_courses(query)
            db.session.rollback()
        timings = {"search (results + total)": [], "search + facets": []}
        for _ in range(runs):
            started = time.perf_counter()
            search_courses(query, with_facets=False)
            timings["search (results + total)"].append((time.perf_counter() - started) * 1000)
            db.session.rollback()
            started = time.perf_counter()
            results = search_courses(query)
            timings["search + facets"].append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        explain = explain_search(query)
    return {"timings": timings, "total": results.total, "explain": explain}


def per_request(runs: int = 30) -> str:
    """Each page and API answer of the wrk run, one request at a time through the app in this
    process (no page cache, no rate limit): the median time and the SQL statements each
    request runs. What one request costs, apart from queueing behind the others."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.factory import create_app

    app = create_app()
    app.config.update(PAGE_CACHE_SECONDS=0, RATELIMIT_ENABLED=False)
    client = app.test_client()
    lines = ["| one request at a time, in-process | median ms | SQL statements |", "|---|---|---|"]
    with app.app_context():
        engine = db.engine
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    # Outside any app context: each request has its own, so its own session, as in a server.
    for path in (CATALOG_PATH, API_SEARCH_PATH, COURSE_PATH, API_COURSE_PATH):
        for _ in range(5):  # warm up
            assert client.get(path).status_code == 200, path
        statements.clear()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        lines.append(f"| `{path}` | {statistics.median(timings):.1f} | {len(statements) / runs:.0f} |")
    return "\n".join(lines)


def explain_search(query) -> str:
    """EXPLAIN ANALYZE of the statement that finds a page of results and the total."""
    import sqlalchemy as sa

    from app.discovery.search import search_courses
    from app.extensions import db

    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(cursor.mogrify(statement, parameters).decode())

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        search_courses(query, with_facets=False)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    db.session.rollback()
    main = next(s for s in statements if "count(*) OVER ()" in s)
    conn = db.session.connection()
    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    plan = [row[0] for row in conn.exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS) " + main.replace("%", "%%"))]
    db.session.rollback()
    return main + "\n\n" + "\n".join(plan)


def ensure_syllabus(slug: str, sections: int = 4, lessons: int = 6) -> None:
    """Give the measured course a syllabus (sections of text lessons) once, so its page and its
    API answer carry one like a real course's."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.factory import create_app

    with create_app().app_context():
        course_id = db.session.scalar(sa.text("SELECT id FROM course WHERE slug = :slug"), {"slug": slug})
        if course_id is None:
            sys.exit(f"No course {slug}: run bench/generate_catalog.py first.")
        if db.session.scalar(sa.text("SELECT count(*) FROM section WHERE course_id = :c"), {"c": course_id}):
            return
        for s in range(sections):
            section_id = db.session.scalar(sa.text(
                "INSERT INTO section (course_id, title, position) VALUES (:c, :t, :p) RETURNING id"),
                {"c": course_id, "t": f"Part {s + 1}", "p": s})
            db.session.execute(sa.text(
                "INSERT INTO lesson (course_id, section_id, title, kind, position, duration_seconds, "
                "is_free_preview, body, created_at, updated_at) VALUES (:c, :s, :t, 'text', :p, 300, :free, "
                "'Read this.', now(), now())"),
                [{"c": course_id, "s": section_id, "t": f"Lesson {s + 1}.{n + 1}", "p": n, "free": s == n == 0}
                 for n in range(lessons)])
        db.session.commit()


def serve(target: str, port: int, env: dict) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
           "--bind", f"127.0.0.1:{port}", "--workers", env.get("WEB_CONCURRENCY", "2"),
           "--access-logfile", "/dev/null", target]
    # Its log (every access line too, gunicorn.conf.py's logconfig) goes to a file: a pipe
    # nobody reads fills up under load and blocks the workers.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    log.seek(0)
    raise RuntimeError(f"{target} did not start: {log.read().decode()[-2000:]}")


def wrk(url: str, seconds: int, connections: int) -> dict:
    # --timeout 10s: a slow page's requests are counted at their real latency, not dropped
    # at wrk's default 2 s (a 2 s timeout counted none of the course page's under load).
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:  # a benchmark of error pages measures nothing
        raise RuntimeError(f"{url} answered errors under load:\n{out}")
    def ms(label):
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    timeouts = re.search(r"timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "timeouts": int(timeouts.group(1)) if timeouts else 0,
            "p50": ms("50"), "p90": ms("90"), "p99": ms("99"), "raw": out}


def search_report(alone: dict) -> str:
    lines = ["| in-process, matching " + f"{alone['total']} courses | p50 ms | p95 ms | p99 ms |",
             "|---|---|---|---|"]
    for label, values in alone["timings"].items():
        lines.append(f"| {label} | {statistics.median(values):.1f} | {percentile(values, 95):.1f} | "
                     f"{percentile(values, 99):.1f} |")
    return "\n".join(lines)


def main() -> None:
    if "--per-request" in sys.argv[1:]:
        ensure_syllabus(COURSE_SLUG)
        print(per_request())
        return
    if "--search-only" in sys.argv[1:]:
        alone = search_alone()
        print(search_report(alone))
        print(alone["explain"])
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    RESULTS.mkdir(exist_ok=True)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    ensure_syllabus(COURSE_SLUG)
    alone = search_alone()
    one_at_a_time = per_request()
    env = {**os.environ, "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
           "SESSION_COOKIE_SECURE": "false", "RATELIMIT_ENABLED": "false"}
    seconds, connections = int(os.environ.get("BENCH_SECONDS", "20")), int(os.environ.get("BENCH_CONNECTIONS", "32"))
    rows = []
    # The catalog as a visitor gets it (the page cache on, as in production), then the same
    # page rendered afresh for every request (what a signed-in user costs), then the API's
    # answer to the same search (never cached: every API request runs the search), the course
    # page (not cached either) and the API's course.
    uncached = {"PAGE_CACHE_SECONDS": "0"}
    for name, target, path, extra in (
            ("hello (bare Flask)", "bench.hello_app:app", "/", {}),
            ("catalog: search + 2 filters + sort", "wsgi:app", CATALOG_PATH, {}),
            ("the same page uncached (PAGE_CACHE_SECONDS=0)", "wsgi:app", CATALOG_PATH, uncached),
            ("API: the same search, GET /api/v1/courses", "wsgi:app", API_SEARCH_PATH, uncached),
            ("course page, GET /courses/<slug>", "wsgi:app", COURSE_PATH, uncached),
            ("API: the same course, GET /api/v1/courses/<slug>", "wsgi:app", API_COURSE_PATH, uncached)):
        proc = serve(target, 8765, {**env, **extra})
        try:
            wrk(f"http://127.0.0.1:8765{path}", 3, connections)  # warm-up
            rows.append((name, wrk(f"http://127.0.0.1:8765{path}", seconds, connections)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)  # graceful_timeout is 30 s; a loaded machine adds to it
    hello, catalog = rows[0][1], rows[1][1]
    ratio = catalog["rps"] / hello["rps"]
    lines = [f"Load average before / after: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n",
             "| what | requests/s | p50 ms | p90 ms | p99 ms | timeouts |", "|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | "
                     f"{r['timeouts']} |")
    lines.append(f"\nCatalog / hello throughput: **{ratio:.0%}** (target ≥ 35%).")
    rps = {name: r["rps"] for name, r in rows}
    names = [name for name, _ in rows]
    lines.append(f"API search / uncached search page: **{rps[names[3]] / rps[names[2]]:.2f}×**; "
                 f"API course / course page: **{rps[names[5]] / rps[names[4]]:.2f}×**.\n")
    lines.append(one_at_a_time + "\n")
    lines.append(search_report(alone))
    report = "\n".join(lines)
    print(report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"catalog-{stamp}.md").write_text(
        report + "\n\n```\n" + alone["explain"] + "\n```\n\n" + "\n".join(r["raw"] for _, r in rows))


if __name__ == "__main__":
    main()
