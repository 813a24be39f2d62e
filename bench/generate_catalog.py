"""Fill a PostgreSQL database with a realistic catalog for the discovery benchmark.

    python bench/generate_catalog.py --courses 100000   (DATABASE_URL must point at PostgreSQL)

Titles and descriptions come from a small word model (topic words × course patterns);
creators, categories, levels, languages, prices, ratings and enrollment counts follow
skewed distributions like a real marketplace's. Rows are bulk-inserted with the search
triggers off, then the search table (document and filter columns) and the vocabulary are
built in one pass each.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

# Benchmarks use the local gateway and throwaway data: run as development (a server
# DATABASE_URL alone would mean production, which refuses development settings).
os.environ.setdefault("LYCEUM_ENV", "development")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOPICS = ["Python", "SQL", "JavaScript", "Rust", "Go", "Kubernetes", "Docker", "Excel", "Photoshop",
          "Figma", "Watercolour", "Guitar", "Piano", "Spanish", "French", "Japanese", "Marketing",
          "Copywriting", "Leadership", "Negotiation", "Statistics", "Machine Learning",
          "Data Analysis", "Pandas", "React", "Django", "Flask", "Linux", "Networking", "Security",
          "Photography", "Video Editing", "Yoga", "Nutrition", "Calculus", "Physics", "Chemistry",
          "Drawing", "Animation", "Blender", "Unity", "Accounting", "Investing", "Public Speaking",
          "Writing", "Poetry", "Chess", "Cooking", "Baking", "Gardening"]
PATTERNS = ["{t} for Absolute Beginners", "Practical {t}", "Mastering {t}", "{t} in 30 Days",
            "The Complete {t} Course", "{t}: From Zero to Hero", "Advanced {t} Techniques",
            "{t} Fundamentals", "Hands-on {t} Projects", "{t} for Professionals",
            "Learn {t} the Fun Way", "{t} Bootcamp", "Modern {t}", "{t} Essentials"]
WORDS = ("learn build practise project real world skills step guide examples exercises "
         "beginner advanced workflow tools tips quiz understand create master career confidence "
         "clear simple fast deep practical theory hands modern proven").split()
LEVELS = ["all", "beginner", "intermediate", "advanced"]
LANGUAGES = ["en"] * 8 + ["es", "fr", "de", "pt"]


def sentence(rng: random.Random, topic: str, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words.insert(rng.randrange(len(words)), topic.lower())
    return " ".join(words).capitalize() + "."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark measures PostgreSQL).")

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app.discovery.search import refresh_search_terms
    from app.extensions import db
    from app.factory import create_app

    rng = random.Random(args.seed)
    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        conn = db.session.connection()
        category_ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM category"))]
        conn.execute(sa.text("ALTER TABLE course DISABLE TRIGGER course_search_course"))
        conn.execute(sa.text("ALTER TABLE course_stats DISABLE TRIGGER course_search_stats"))
        users = [{"email": f"creator{i}@bench.test", "name": f"Creator {i}"} for i in range(args.creators)]
        conn.execute(sa.text(
            "INSERT INTO users (email, display_name, password_hash, headline, bio, created_at, "
            "balance) VALUES (:email, :name, NULL, '', '', now(), 0)"), users)
        creator_ids = [row[0] for row in conn.execute(
            sa.text("SELECT id FROM users WHERE email LIKE 'creator%@bench.test'"))]
        batch = []
        for i in range(args.courses):
            topic = rng.choice(TOPICS)
            title = rng.choice(PATTERNS).format(t=topic)
            free = rng.random() < 0.12
            batch.append({
                "creator": creator_ids[int(rng.paretovariate(1.2)) % len(creator_ids)],
                "title": title[:120], "slug": f"bench-{i}",
                "subtitle": sentence(rng, topic, 8)[:200],
                "description": " ".join(sentence(rng, topic, 14) for _ in range(6)),
                "category": rng.choice(category_ids), "level": rng.choice(LEVELS),
                "language": rng.choice(LANGUAGES),
                "price": 0 if free else rng.choice([999, 1499, 1999, 2999, 4999, 7999, 12999]),
                "days": rng.randrange(0, 720)})
            if len(batch) == 5000:
                _insert(conn, sa, batch)
                batch = []
        if batch:
            _insert(conn, sa, batch)
        conn.execute(sa.text("ALTER TABLE course ENABLE TRIGGER course_search_course"))
        # Aggregates: ratings and learners skewed toward a few popular courses.
        conn.execute(sa.text("""
            INSERT INTO course_stats (course_id, learners, rating_count, rating_sum, rating_1, rating_2,
                                      rating_3, rating_4, rating_5, rating_score, trending_score)
            SELECT id, n, r, (r * (30 + (id * 7919 % 20)) / 10), 0, 0, 0, 0, r, 0,
                   (n * (id % 13)) * 10
            FROM (SELECT id, (1000 / (1 + id % 97))::int AS n, ((id * 31) % 200)::int AS r
                  FROM course WHERE slug LIKE 'bench-%') s
            ON CONFLICT (course_id) DO NOTHING"""))
        conn.execute(sa.text("""UPDATE course_stats SET rating_score =
            (5 * 3500 + rating_sum * 1000) / (5 + rating_count)"""))
        # The search table: the weighted document and the filter/sort columns (migration 0006).
        conn.execute(sa.text("""
            INSERT INTO course_search (course_id, document, published, creator_id,
                creator_suspended_at, creator_suspended_until, category_id, level, language,
                price_minor, rating_count, rating_sum, rating_score, trending_score, published_at)
            SELECT c.id, setweight(to_tsvector('english', c.title), 'A') ||
                         setweight(to_tsvector('english', c.subtitle || ' ' || coalesce(cat.name, '')), 'B') ||
                         setweight(to_tsvector('english', c.description), 'C'),
                   c.status = 'published', c.creator_id, u.suspended_at, u.suspended_until,
                   c.category_id, c.level, c.language, c.price_minor, st.rating_count,
                   st.rating_sum, st.rating_score, coalesce(st.trending_score, 0), c.published_at
            FROM course c JOIN users u ON u.id = c.creator_id
                 LEFT JOIN category cat ON cat.id = c.category_id
                 LEFT JOIN course_stats st ON st.course_id = c.id
            ON CONFLICT (course_id) DO NOTHING"""))
        conn.execute(sa.text("ALTER TABLE course_stats ENABLE TRIGGER course_search_stats"))
        db.session.commit()
        refresh_search_terms()
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        total = db.session.scalar(sa.text("SELECT count(*) FROM course"))
    print(f"{total} courses ready in {time.perf_counter() - started:.1f} s")


def _insert(conn, sa, rows) -> None:
    conn.execute(sa.text(
        "INSERT INTO course (creator_id, title, slug, subtitle, description, category_id, level, "
        "language, price_minor, currency, status, created_at, updated_at, published_at) VALUES "
        "(:creator, :title, :slug, :subtitle, :description, :category, :level, :language, :price, "
        "'USD', 'published', now(), now(), now() - make_interval(days => :days))"), rows)


if __name__ == "__main__":
    main()
