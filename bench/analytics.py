"""Analytics benchmark on PostgreSQL + Redis (issue 17, part 5): the creator's and the admin's
analytics pages at 100,000 paid orders and 1,000,000 lesson-progress rows.

    createdb -h 127.0.0.1 -U postgres lyceum_bench_analytics
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lyceum_bench_analytics \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/analytics.py

    … --fresh          drop everything in that database and generate again
    … --runs 300       requests per page (after 20 of warm-up)
    … --no-rebuild     skip timing `analytics.rebuild.rebuild` over the whole year

The data (generated once, then reused; seed 17): one big creator with 200 courses, 400 small
creators with 1–3 courses each (all in USD), 50,000 learners; 100,000 paid orders over 365
days (growing, 5 % refunded later), each with its enrolment, its ledger transactions (sale,
refund, escrow release after 30 days, as `ledger.post` writes them) and 1,000,000
lesson-progress rows along 20-lesson courses with a drop-off. Source rows are written with
COPY; the rollups with the SQL that a rebuild runs (GROUP BY over those rows), plus the
figures nothing else records (page views, checkouts, reviews, questions, the review queue),
drawn from the same seed. Then, in this process, through the Flask test client (no server,
no page cache), it measures each page's p50/p95/p99 and SQL statements per request, and
the process's RSS; and, separately, the time of `rebuild` over the 365 days.

The pages are measured as they are when the script runs: sections still being written are
simply absent from what it times. It refuses a database named `test` (the suite's).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Benchmarks use the local gateway and throwaway data: run as development (a server
# DATABASE_URL alone would mean production, which refuses development settings).
os.environ.setdefault("LYCEUM_ENV", "development")
sys.path.insert(0, str(ROOT))

SEED = 17
DAYS = 365
BIG_COURSES = 200
SMALL_CREATORS = 400
LEARNERS = 50_000
ORDERS = 100_000
PROGRESS_ROWS = 1_000_000
LESSONS_PER_COURSE = 20  # 4 sections of 5
KINDS = ("video", "text", "pdf", "text", "quiz")  # by position within a section
SOURCES = (("google.com", 40), ("direct", 30), ("youtube.com", 15), ("newsletter", 10), ("t.co", 5))
BIG_EMAIL, ADMIN_EMAIL = "big-creator@bench.test", "finance@bench.test"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    """COPY `rows` (tuples; None is NULL) into `table`, in chunks."""
    count = 0
    buffer = io.StringIO()

    def flush():
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        count += 1
        if count % 200_000 == 0:
            flush()
    flush()
    return count


# --- the data ---------------------------------------------------------------------------------


def generate(conn, today: date) -> None:
    """Every source row and rollup of the benchmark, in one transaction of `conn` (psycopg2)."""
    rng = random.Random(SEED)
    cur = conn.cursor()
    now = datetime.combine(today, datetime.min.time(), UTC) - timedelta(seconds=1)  # end of yesterday
    first = now - timedelta(days=DAYS) + timedelta(seconds=1)
    stamp = now.isoformat()
    started = time.perf_counter()

    # People: the big creator, the small ones, the learners, a finance admin.
    people = [(BIG_EMAIL, "Big Creator", (now - timedelta(days=800)).isoformat(), stamp)]
    people += [(f"creator{i}@bench.test", f"Creator {i}", (now - timedelta(days=rng.randrange(30, 900))).isoformat(),
                stamp) for i in range(SMALL_CREATORS)]
    people += [(f"learner{i}@bench.test", f"Learner {i}", (first + timedelta(seconds=rng.randrange(DAYS * 86400))
                                                            ).isoformat(), None) for i in range(LEARNERS)]
    people.append((ADMIN_EMAIL, "Finance Admin", stamp, None))
    copy_rows(cur, "users", ("email", "display_name", "headline", "bio", "created_at", "creator_terms_accepted_at",
                             "balance"),
              ((e, n, "", "", c, t, 0) for e, n, c, t in people))
    cur.execute("SELECT id, email FROM users WHERE email LIKE '%%@bench.test'")
    ids = dict((email, user_id) for user_id, email in cur.fetchall())
    big = ids[BIG_EMAIL]
    creators = [ids[f"creator{i}@bench.test"] for i in range(SMALL_CREATORS)]
    learners = [ids[f"learner{i}@bench.test"] for i in range(LEARNERS)]
    cur.execute("INSERT INTO admin_permission (user_id, permission, granted_at) VALUES (%s, 'manage_finance', now())",
                (ids[ADMIN_EMAIL],))

    # Courses: 200 for the big creator, 1–3 for each small one; in USD (the ledger's gateway and
    # commission accounts hold one currency each).
    courses = []  # (creator, currency, price)
    courses += [(big, "USD", rng.choice((1999, 2999, 4999, 7999, 12999))) for _ in range(BIG_COURSES)]
    for creator in creators:
        courses += [(creator, "USD", rng.choice((999, 1499, 1999, 2999, 4999))) for _ in range(1 + creator % 3)]
    cur.execute("ALTER TABLE course DISABLE TRIGGER USER")
    cur.execute("ALTER TABLE lesson DISABLE TRIGGER USER")
    copy_rows(cur, "course", ("creator_id", "title", "slug", "subtitle", "description", "level", "language",
                              "price_minor", "currency", "status", "created_at", "updated_at", "submitted_at",
                              "published_at"),
              ((creator, f"Bench course {n}", f"bench-analytics-{n}", "", "", "all", "en", price, currency,
                "published", stamp, stamp, stamp, stamp) for n, (creator, currency, price) in enumerate(courses)))
    cur.execute("SELECT id, creator_id, currency, price_minor FROM course WHERE slug LIKE 'bench-analytics-%%' "
                "ORDER BY id")
    course_rows = cur.fetchall()
    copy_rows(cur, "section", ("course_id", "title", "position"),
              ((c[0], f"Part {s + 1}", s) for c in course_rows for s in range(LESSONS_PER_COURSE // 5)))
    cur.execute("SELECT id, course_id, position FROM section WHERE course_id >= %s ORDER BY id", (course_rows[0][0],))
    sections = cur.fetchall()
    copy_rows(cur, "lesson", ("course_id", "section_id", "title", "kind", "position", "duration_seconds",
                              "is_free_preview", "body", "created_at", "updated_at"),
              ((course_id, section_id, f"Lesson {position * 5 + i + 1}", KINDS[i], i,
                600 if KINDS[i] == "video" else 300, "false", "", stamp, stamp)
               for section_id, course_id, position in sections for i in range(5)))
    cur.execute("""SELECT l.id, l.course_id, l.kind, l.duration_seconds FROM lesson l
                   JOIN section s ON s.id = l.section_id WHERE l.course_id >= %s
                   ORDER BY l.course_id, s.position, l.position""", (course_rows[0][0],))
    lessons: dict[int, list[tuple[int, str, int]]] = {}
    for lesson_id, course_id, kind, seconds in cur.fetchall():
        lessons.setdefault(course_id, []).append((lesson_id, kind, seconds))
    quiz_lessons = [lesson_id for rows in lessons.values() for lesson_id, kind, _ in rows if kind == "quiz"]
    copy_rows(cur, "quiz", ("lesson_id", "pass_mark_percent"), ((lesson_id, 70) for lesson_id in quiz_lessons))
    cur.execute("SELECT q.id, l.course_id FROM quiz q JOIN lesson l ON l.id = q.lesson_id WHERE l.course_id >= %s",
                (course_rows[0][0],))
    quizzes = cur.fetchall()
    copy_rows(cur, "quiz_question", ("quiz_id", "position", "kind", "prompt", "explanation"),
              ((quiz_id, p, "single", f"Question {p + 1}", "") for quiz_id, _ in quizzes for p in range(3)))
    print(f"  people, courses, lessons, quizzes: {time.perf_counter() - started:.1f} s", flush=True)

    # Orders: 40 % to the big creator's courses (a few bestsellers), the rest spread; more
    # recent days sell more; each (learner, course) at most once.
    big_courses = [c for c in course_rows if c[1] == big]
    small_courses = [c for c in course_rows if c[1] != big]
    big_weights = [1 / (i + 1) ** 0.8 for i in range(len(big_courses))]
    taken: set[tuple[int, int]] = set()
    orders = []
    source_names, source_weights = zip(*SOURCES, strict=True)
    while len(orders) < ORDERS:
        course = (rng.choices(big_courses, big_weights)[0] if rng.random() < 0.4 else rng.choice(small_courses))
        learner = rng.choice(learners)
        if (learner, course[0]) in taken:
            continue
        taken.add((learner, course[0]))
        paid_at = now - timedelta(seconds=int(DAYS * 86400 * (1 - rng.random() ** 0.7)))
        refunded = rng.random() < 0.05
        orders.append((learner, course, paid_at, refunded, rng.choices(source_names, source_weights)[0]))
    orders.sort(key=lambda o: o[2])

    def order_row(n, o):
        learner, (course_id, creator, currency, price), paid_at, refunded, source = o
        commission = (price * 1500 * 2 + 10000) // 20000
        release_at = paid_at + timedelta(days=30)
        released = release_at.isoformat() if release_at <= now and not refunded else None
        return (learner, course_id, creator, price, currency, 1500, commission, price - commission,
                "completion_or_days", 30, "refunded" if refunded else "paid", "stripe", f"pi_bench_{n}",
                (paid_at - timedelta(minutes=3)).isoformat(), paid_at.isoformat(), release_at.isoformat(), released,
                "false", price if refunded else 0, commission if refunded else 0, source)

    copy_rows(cur, "purchase_order", (
        "buyer_id", "course_id", "creator_id", "price_minor", "currency", "commission_bps", "commission_minor",
        "creator_share_minor", "escrow_mode", "escrow_days", "status", "gateway", "payment_intent_id",
        "created_at", "paid_at", "escrow_release_at", "escrow_released_at", "frozen", "refunded_minor",
        "commission_refunded_minor", "traffic_source"), (order_row(n, o) for n, o in enumerate(orders)))
    # Refunds: settled 1–10 days after the sale (never after yesterday).
    cur.execute(f"""
        INSERT INTO refund (order_id, amount_minor, reason, status, automatic, requested_by_id, decision_note,
                            gateway_refund_id, created_at, settled_at)
        SELECT id, price_minor, 'Not what I expected.', 'succeeded', true, buyer_id, '', 're_bench_' || id,
               least(paid_at + make_interval(days => 1 + id % 10), TIMESTAMPTZ '{stamp}'),
               least(paid_at + make_interval(days => 1 + id % 10), TIMESTAMPTZ '{stamp}')
        FROM purchase_order WHERE status = 'refunded' AND payment_intent_id LIKE 'pi_bench_%%'""")
    print(f"  {len(orders):,} orders: {time.perf_counter() - started:.1f} s", flush=True)

    # The ledger, as ledger.post writes it: sale, refund, escrow release.
    cur.execute(f"""
        INSERT INTO ledger_account (name, type, currency, created_at)
        SELECT name, type, 'USD', TIMESTAMPTZ '{stamp}' FROM (
            VALUES ('asset:gateway:stripe', 'asset'), ('income:platform:commission', 'income')) a(name, type)
        UNION ALL
        SELECT DISTINCT 'liability:creator:' || creator_id || ':' || p, 'liability', 'USD', TIMESTAMPTZ '{stamp}'
        FROM purchase_order, unnest(ARRAY['escrow', 'available']) p WHERE payment_intent_id LIKE 'pi_bench_%%'
        ON CONFLICT (name) DO NOTHING""")
    for kind, key, moment, where in (
            ("sale", "'sale:' || o.id", "o.paid_at", "true"),
            ("refund", "'refund:' || r.id", "r.settled_at", "o.status = 'refunded'"),
            ("escrow_release", "'escrow-release:' || o.id", "o.escrow_released_at",
             "o.escrow_released_at IS NOT NULL")):
        join = "JOIN refund r ON r.order_id = o.id" if kind == "refund" else ""
        cur.execute(f"""
            INSERT INTO ledger_transaction (idempotency_key, kind, memo, order_id, created_at)
            SELECT {key}, '{kind}', 'bench', o.id, {moment} FROM purchase_order o {join}
            WHERE o.payment_intent_id LIKE 'pi_bench_%%' AND {where}""")
    cur.execute("""
        CREATE TEMP TABLE bench_acct AS SELECT o.id AS order_id, o.currency,
            (SELECT id FROM ledger_account WHERE name = 'asset:gateway:stripe') AS gateway,
            (SELECT id FROM ledger_account WHERE name = 'income:platform:commission') AS commission,
            (SELECT id FROM ledger_account WHERE name = 'liability:creator:' || o.creator_id || ':escrow') AS escrow,
            (SELECT id FROM ledger_account WHERE name = 'liability:creator:' || o.creator_id || ':available')
                AS available,
            o.price_minor, o.commission_minor, o.creator_share_minor
        FROM purchase_order o WHERE o.payment_intent_id LIKE 'pi_bench_%%'""")
    cur.execute("""
        INSERT INTO ledger_entry (transaction_id, account_id, amount, currency)
        SELECT t.id, leg.account, leg.amount, a.currency
        FROM ledger_transaction t JOIN bench_acct a ON a.order_id = t.order_id,
        LATERAL (VALUES
            (CASE t.kind WHEN 'sale' THEN a.gateway WHEN 'refund' THEN a.gateway ELSE a.escrow END,
             CASE t.kind WHEN 'sale' THEN a.price_minor WHEN 'refund' THEN -a.price_minor
                  ELSE a.creator_share_minor END),
            (CASE t.kind WHEN 'escrow_release' THEN a.available ELSE a.commission END,
             CASE t.kind WHEN 'sale' THEN -a.commission_minor WHEN 'refund' THEN a.commission_minor
                  ELSE -a.creator_share_minor END),
            (CASE t.kind WHEN 'escrow_release' THEN NULL ELSE a.escrow END,
             CASE t.kind WHEN 'sale' THEN -a.creator_share_minor WHEN 'refund' THEN a.creator_share_minor END)
        ) AS leg(account, amount)
        WHERE leg.account IS NOT NULL AND t.idempotency_key NOT LIKE 'bench-%%'""")
    cur.execute("""
        UPDATE users u SET balance = s.available FROM (
            SELECT o.creator_id, -sum(e.amount) AS available FROM ledger_entry e
            JOIN ledger_account a ON a.id = e.account_id AND a.name LIKE 'liability:creator:%%:available'
            JOIN ledger_transaction t ON t.id = e.transaction_id JOIN purchase_order o ON o.id = t.order_id
            GROUP BY o.creator_id) s WHERE u.id = s.creator_id""")
    print(f"  ledger: {time.perf_counter() - started:.1f} s", flush=True)

    # Enrolments (one per order; refunded ones revoked) and 1,000,000 progress rows with a
    # drop-off along the 20 lessons; the last row of a learner is the lesson they are on.
    cur.execute("""SELECT id, buyer_id, course_id, paid_at, status FROM purchase_order
                   WHERE payment_intent_id LIKE 'pi_bench_%%' ORDER BY id""")
    paid = cur.fetchall()
    reach = []
    for _ in paid:
        k = 1
        while k < LESSONS_PER_COURSE and rng.random() < 0.92:
            k += 1
        reach.append(k)
    surplus = sum(reach) - PROGRESS_ROWS
    i = 0
    while surplus != 0:  # exactly PROGRESS_ROWS rows: trim or extend, a lesson at a time
        if surplus > 0 and reach[i] > 1:
            reach[i] -= 1
            surplus -= 1
        elif surplus < 0 and reach[i] < LESSONS_PER_COURSE:
            reach[i] += 1
            surplus += 1
        i = (i + 1) % len(reach)
    enrolments = []
    for (_order_id, learner, course_id, paid_at, status), k in zip(paid, reach, strict=True):
        course_lessons = lessons[course_id]
        last_at = min(now, paid_at + timedelta(hours=6 * k + rng.randrange(48)))
        done = k == LESSONS_PER_COURSE and status == "paid"
        enrolments.append((course_id, learner, "purchase", "refunded" if status == "refunded" else "paid",
                           paid_at.isoformat(), last_at.isoformat() if done else None,
                           (paid_at + timedelta(days=2)).isoformat() if status == "refunded" else None,
                           course_lessons[k - 1][0], last_at.isoformat()))
    copy_rows(cur, "enrollment", ("course_id", "learner_id", "source", "payment_status", "enrolled_at",
                                  "completed_at", "revoked_at", "last_lesson_id", "last_activity_at"), enrolments)
    cur.execute("""SELECT e.id, e.course_id, e.enrolled_at FROM enrollment e JOIN course c ON c.id = e.course_id
                   WHERE c.slug LIKE 'bench-analytics-%%' ORDER BY e.id""")
    enrolled = cur.fetchall()

    def progress_rows():
        for (enrollment_id, course_id, enrolled_at), k in zip(enrolled, reach, strict=True):
            for position, (lesson_id, kind, seconds) in enumerate(lessons[course_id][:k]):
                at = min(now, enrolled_at + timedelta(hours=6 * position + 1))
                completed = at.isoformat() if position < k - 1 or rng.random() < 0.5 else None
                watched = int(seconds * min(1.0, rng.betavariate(3, 1.5))) if kind == "video" else 0
                yield enrollment_id, lesson_id, completed, watched, at.isoformat(), watched

    rows = copy_rows(cur, "lesson_progress", ("enrollment_id", "lesson_id", "completed_at", "position_seconds",
                                              "updated_at", "watched_seconds"), progress_rows())
    print(f"  {len(enrolled):,} enrolments, {rows:,} lesson-progress rows: {time.perf_counter() - started:.1f} s",
          flush=True)
    rollups(cur, rng, first.date(), now.date())
    cur.execute("ALTER TABLE course ENABLE TRIGGER USER")
    cur.execute("ALTER TABLE lesson ENABLE TRIGGER USER")
    print(f"  rollups: {time.perf_counter() - started:.1f} s", flush=True)


def rollups(cur, rng: random.Random, first: date, last: date) -> None:
    """The rollup rows: from the source rows by the GROUP BY a rebuild runs, and the figures
    nothing else records drawn from the seed."""
    bench = "o.payment_intent_id LIKE 'pi_bench_%%'"
    cur.execute(f"""
        INSERT INTO analytics_course_day (course_id, day, creator_id, currency, page_views, checkouts, sales, gross,
            commission, refunds, refunded_commission, creator_net, refund_count, enrollments, completions, reviews,
            rating_sum, questions, first_answers)
        SELECT course_id, day, creator_id, currency, 0, 0, sum(sales), sum(gross), sum(commission), sum(refunds),
               sum(refunded_commission), sum(net), sum(refund_count), sum(enrollments), sum(completions), 0, 0, 0, 0
        FROM (
            SELECT o.course_id, (o.paid_at AT TIME ZONE 'UTC')::date AS day, o.creator_id, o.currency, 1 AS sales,
                   o.price_minor AS gross, o.commission_minor AS commission, 0 AS refunds, 0 AS refunded_commission,
                   o.creator_share_minor AS net, 0 AS refund_count, 1 AS enrollments, 0 AS completions
              FROM purchase_order o WHERE {bench}
            UNION ALL
            SELECT o.course_id, (r.settled_at AT TIME ZONE 'UTC')::date, o.creator_id, o.currency, 0, 0, 0,
                   r.amount_minor, o.commission_minor, -o.creator_share_minor, 1, 0, 0
              FROM refund r JOIN purchase_order o ON o.id = r.order_id WHERE {bench}
            UNION ALL
            SELECT o.course_id, (e.completed_at AT TIME ZONE 'UTC')::date, o.creator_id, o.currency,
                   0, 0, 0, 0, 0, 0, 0, 0, 1
              FROM enrollment e JOIN purchase_order o ON o.course_id = e.course_id AND o.buyer_id = e.learner_id
             WHERE {bench} AND e.completed_at IS NOT NULL
        ) facts GROUP BY course_id, day, creator_id, currency""")
    # What nothing else records: page views and checkouts by source (around each day's sales),
    # summed into the course's day; reviews and questions.
    cur.execute(f"""
        INSERT INTO analytics_source_day (course_id, day, source, creator_id, page_views, checkouts, sales)
        SELECT o.course_id, (o.paid_at AT TIME ZONE 'UTC')::date AS day, o.traffic_source, o.creator_id,
               count(*) * (10 + (o.course_id + extract(doy FROM (o.paid_at AT TIME ZONE 'UTC')::date)::int) % 15),
               count(*) + (count(*) * (2 + o.course_id % 4)) / 5, count(*)
        FROM purchase_order o WHERE {bench} GROUP BY 1, 2, 3, 4""")
    cur.execute("""
        UPDATE analytics_course_day d SET page_views = s.page_views, checkouts = s.checkouts,
            reviews = d.sales / 4, rating_sum = (d.sales / 4) * (4 + d.course_id % 2),
            questions = d.sales / 6, first_answers = d.sales / 7
        FROM (SELECT course_id, day, sum(page_views) AS page_views, sum(checkouts) AS checkouts
              FROM analytics_source_day GROUP BY 1, 2) s
        WHERE s.course_id = d.course_id AND s.day = d.day""")
    cur.execute(f"""
        INSERT INTO analytics_platform_day (day, new_learners, new_creators, submissions, approvals, rejections,
            reports_opened, reports_resolved, disputes_opened, disputes_lost, payouts_sent)
        SELECT d::date, coalesce(n.learners, 0), (extract(doy FROM d)::int % 7 = 0)::int,
               2 + extract(dow FROM d)::int, 1 + extract(dow FROM d)::int, extract(dow FROM d)::int % 2, 3, 2,
               (extract(doy FROM d)::int % 9 = 0)::int, (extract(doy FROM d)::int % 31 = 0)::int, 4
        FROM generate_series(DATE '{first}', DATE '{last}', interval '1 day') d
        LEFT JOIN (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS learners FROM users
                   WHERE email LIKE 'learner%%@bench.test' GROUP BY 1) n ON n.day = d::date""")
    cur.execute(f"""
        INSERT INTO analytics_duration_day (metric, scope_id, day, hours, count)
        SELECT 'completion', e.course_id, (e.completed_at AT TIME ZONE 'UTC')::date,
               least(8784, floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 3600))::int, count(*)
        FROM enrollment e JOIN course c ON c.id = e.course_id
        WHERE c.slug LIKE 'bench-analytics-%%' AND e.completed_at IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT 'first_answer', d.course_id, d.day, (d.course_id * 13 + extract(doy FROM d.day)::int) % 72,
               d.first_answers
        FROM analytics_course_day d WHERE d.first_answers > 0
        UNION ALL
        SELECT 'review_decision', 0, d::date, (extract(doy FROM d)::int * 7) % 96, 2
        FROM generate_series(DATE '{first}', DATE '{last}', interval '1 day') d""")
    cur.execute("""
        INSERT INTO analytics_lesson_reach (lesson_id, course_id, reached, completed, watched_permille_sum,
                                            watched_count)
        SELECT p.lesson_id, l.course_id, count(*), count(p.completed_at),
               coalesce(sum(CASE WHEN l.kind = 'video' AND l.duration_seconds > 0
                                 THEN least(1000, p.watched_seconds * 1000 / l.duration_seconds) END), 0),
               count(*) FILTER (WHERE l.kind = 'video')
        FROM lesson_progress p JOIN lesson l ON l.id = p.lesson_id JOIN course c ON c.id = l.course_id
        WHERE c.slug LIKE 'bench-analytics-%%' GROUP BY p.lesson_id, l.course_id""")
    cur.execute("""
        INSERT INTO analytics_quiz_stats (quiz_id, course_id, attempts, passed)
        SELECT q.id, r.course_id, r.reached + r.reached / 3, r.completed
        FROM quiz q JOIN analytics_lesson_reach r ON r.lesson_id = q.lesson_id""")
    cur.execute("""
        INSERT INTO analytics_question_stats (question_id, quiz_id, course_id, answered, correct)
        SELECT qq.id, s.quiz_id, s.course_id, s.attempts, s.attempts * (90 - 25 * qq.position) / 100
        FROM quiz_question qq JOIN analytics_quiz_stats s ON s.quiz_id = qq.quiz_id""")


# --- the measurements -------------------------------------------------------------------------


def measure(app, big_id: int, admin_id: int, course_id: int, runs: int) -> list[str]:
    import sqlalchemy as sa

    from app.accounts import sessions
    from app.accounts.models import User
    from app.dbtypes import utcnow
    from app.extensions import db

    pages = [
        ("creator", "/studio/analytics"),
        ("creator", "/studio/analytics?range=12m"),
        ("creator", f"/studio/courses/{course_id}/analytics"),
        ("creator", f"/studio/courses/{course_id}/analytics?range=12m"),
        ("admin", "/admin/analytics"),
        ("admin", "/admin/analytics?range=12m"),
    ]
    clients = {}
    with app.app_context():
        for who, user_id in (("creator", big_id), ("admin", admin_id)):
            client = app.test_client()
            user = db.session.get(User, user_id)
            sessions.start_session(user, ip="127.0.0.1", user_agent="bench", remembered=False, now=utcnow())
            db.session.commit()
            with client.session_transaction() as sess:
                sess["_user_id"] = user.get_id()
                sess["_fresh"] = True
            clients[who] = client
        engine = db.engine
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    lines = ["| page (in process, test client) | p50 ms | p95 ms | p99 ms | SQL / request | KiB |",
             "|---|---|---|---|---|---|"]
    for who, path in pages:
        client = clients[who]
        for _ in range(20):  # warm up
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.data[:300])
        statements.clear()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        size = len(response.data) / 1024
        lines.append(f"| `{path}` ({who}) | {statistics.median(timings):.1f} | {percentile(timings, 95):.1f} | "
                     f"{percentile(timings, 99):.1f} | {len(statements) / runs:.0f} | {size:.0f} |")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fresh", action="store_true", help="drop everything in the database and generate again")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-rebuild", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark measures PostgreSQL).")
    if url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] == "test":
        sys.exit("Refusing the `test` database (the suite's): create one for the benchmark.")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app.analytics.rebuild import rebuild
    from app.dbtypes import utcnow
    from app.extensions import db
    from app.factory import create_app

    app = create_app()
    app.config.update(RATELIMIT_ENABLED=False, PAGE_CACHE_SECONDS=0)
    today = utcnow().date()
    rss_start = rss_mib()
    with app.app_context():
        if args.fresh:
            db.session.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        big = db.session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": BIG_EMAIL})
        if big is None:
            print(f"Generating (seed {SEED}) …", flush=True)
            started = time.perf_counter()
            raw = db.engine.raw_connection()
            try:
                generate(raw.driver_connection, today)
                raw.driver_connection.commit()
            finally:
                raw.close()
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            print(f"Generated in {time.perf_counter() - started:.0f} s", flush=True)
        big = db.session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": BIG_EMAIL})
        admin = db.session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": ADMIN_EMAIL})
        course = db.session.scalar(sa.text(
            "SELECT course_id FROM analytics_course_day WHERE creator_id = :c GROUP BY course_id "
            "ORDER BY sum(sales) DESC LIMIT 1"), {"c": big})
        sizes = {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) for table in (
            "purchase_order", "lesson_progress", "enrollment", "ledger_entry", "analytics_course_day",
            "analytics_source_day", "analytics_lesson_reach")}
        first_day = db.session.scalar(sa.text("SELECT min(day) FROM analytics_course_day"))
        db.session.rollback()
    print("Rows: " + ", ".join(f"{table} {count:,}" for table, count in sizes.items()), flush=True)
    print(f"Load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    lines = measure(app, big, admin, course, args.runs)
    rss_after = rss_mib()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append("")
    lines.append(f"RSS of the process: {rss_start:.0f} MiB at start, {rss_after:.0f} MiB after the requests "
                 f"(peak {peak:.0f} MiB, the generation included when it ran).")
    if not args.no_rebuild:
        with app.app_context():
            last = today - timedelta(days=1)
            started = time.perf_counter()
            rebuild(min(first_day, last - timedelta(days=DAYS - 1)), last)
            db.session.commit()
            lines.append(f"`rebuild` of {first_day} … {last} ({(last - first_day).days + 1} days): "
                         f"{time.perf_counter() - started:.2f} s")
    lines.append(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
