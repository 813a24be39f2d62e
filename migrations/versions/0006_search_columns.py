"""search columns: the catalog's filter and sort columns beside the search document

Revision ID: 0006_search_columns
Revises: 0005_money
Create Date: 2026-11-25 12:30:00.000000

`course_search` (one row per course) gets copies of everything the catalog filters and sorts
on: published, the creator and their suspension, category, level, language, price, rating
and trending. A search is then one table read, with no probe into course, users or
course_stats per match. The copies are kept by the database (triggers on course, users and
course_stats), like the document itself (0004). On SQLite `course_search` is a plain table
beside the FTS5 index `course_fts`; on PostgreSQL the columns join the tsvector.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_search_columns"
down_revision = "0005_money"
branch_labels = None
depends_on = None


def upgrade():
    statements = POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade():
    statements = POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)


# --- PostgreSQL ------------------------------------------------------------------------------

# The row's columns other than the documents, from course, its creator and its stats.
_PG_ATTRIBUTES = """
    c.status = 'published', c.creator_id, u.suspended_at, u.suspended_until, c.category_id,
    c.level, c.language, c.price_minor, st.rating_count, st.rating_sum, st.rating_score,
    coalesce(st.trending_score, 0), c.published_at"""
_PG_ATTRIBUTE_NAMES = """
    published, creator_id, creator_suspended_at, creator_suspended_until, category_id, level,
    language, price_minor, rating_count, rating_sum, rating_score, trending_score, published_at"""
_PG_DOCUMENT = """
    setweight(to_tsvector('english', coalesce(c.title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(c.subtitle, '') || ' ' ||
                                     coalesce(cat.name, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(c.description, '') || ' ' ||
        coalesce((SELECT string_agg(l.title, ' ') FROM lesson l WHERE l.course_id = c.id),
                 '')), 'C')"""
_PG_EXCLUDED = ", ".join(f"{name.strip()} = EXCLUDED.{name.strip()}"
                         for name in _PG_ATTRIBUTE_NAMES.split(","))

POSTGRES_UP = [
    """ALTER TABLE course_search
        ADD COLUMN published boolean NOT NULL DEFAULT false,
        ADD COLUMN creator_id integer,
        ADD COLUMN creator_suspended_at timestamptz,
        ADD COLUMN creator_suspended_until timestamptz,
        ADD COLUMN category_id integer,
        ADD COLUMN level varchar(20),
        ADD COLUMN language varchar(8),
        ADD COLUMN price_minor bigint,
        ADD COLUMN rating_count integer,
        ADD COLUMN rating_sum integer,
        ADD COLUMN rating_score integer,
        ADD COLUMN trending_score bigint NOT NULL DEFAULT 0,
        ADD COLUMN published_at timestamptz""",
    f"""CREATE OR REPLACE FUNCTION lyceum_refresh_course_search(cid integer) RETURNS void
        LANGUAGE sql AS $$
        INSERT INTO course_search (course_id, document, {_PG_ATTRIBUTE_NAMES})
        SELECT c.id, {_PG_DOCUMENT}, {_PG_ATTRIBUTES}
        FROM course c JOIN users u ON u.id = c.creator_id
             LEFT JOIN category cat ON cat.id = c.category_id
             LEFT JOIN course_stats st ON st.course_id = c.id
        WHERE c.id = cid
        ON CONFLICT (course_id) DO UPDATE SET document = EXCLUDED.document, {_PG_EXCLUDED}
    $$""",
    f"""CREATE FUNCTION lyceum_refresh_course_search_columns(cid integer) RETURNS void
        LANGUAGE sql AS $$
        UPDATE course_search cs SET ({_PG_ATTRIBUTE_NAMES}) = ROW({_PG_ATTRIBUTES})
        FROM course c JOIN users u ON u.id = c.creator_id
             LEFT JOIN course_stats st ON st.course_id = c.id
        WHERE c.id = cid AND cs.course_id = cid
    $$""",
    """CREATE FUNCTION lyceum_course_search_columns_from_course() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN PERFORM lyceum_refresh_course_search_columns(NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION lyceum_course_search_from_user() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE course_search SET creator_suspended_at = NEW.suspended_at,
                                   creator_suspended_until = NEW.suspended_until
          WHERE creator_id = NEW.id;
          RETURN NULL;
        END $$""",
    """CREATE FUNCTION lyceum_course_search_from_stats() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            UPDATE course_search SET rating_count = NULL, rating_sum = NULL, rating_score = NULL,
                                     trending_score = 0
            WHERE course_id = OLD.course_id;
          ELSE
            UPDATE course_search SET rating_count = NEW.rating_count, rating_sum = NEW.rating_sum,
                                     rating_score = NEW.rating_score,
                                     trending_score = NEW.trending_score
            WHERE course_id = NEW.course_id;
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER course_search_course_columns AFTER UPDATE OF status, creator_id, level,
        language, price_minor, published_at ON course
        FOR EACH ROW EXECUTE FUNCTION lyceum_course_search_columns_from_course()""",
    """CREATE TRIGGER course_search_user AFTER UPDATE OF suspended_at, suspended_until ON users
        FOR EACH ROW EXECUTE FUNCTION lyceum_course_search_from_user()""",
    """CREATE TRIGGER course_search_stats AFTER INSERT OR DELETE OR UPDATE OF rating_count,
        rating_sum, rating_score, trending_score ON course_stats
        FOR EACH ROW EXECUTE FUNCTION lyceum_course_search_from_stats()""",
    f"""UPDATE course_search cs SET ({_PG_ATTRIBUTE_NAMES}) = ROW({_PG_ATTRIBUTES})
        FROM course c JOIN users u ON u.id = c.creator_id
             LEFT JOIN course_stats st ON st.course_id = c.id
        WHERE cs.course_id = c.id""",
    "CREATE INDEX ix_course_search_creator_id ON course_search (creator_id)",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS course_search_stats ON course_stats",
    "DROP TRIGGER IF EXISTS course_search_user ON users",
    "DROP TRIGGER IF EXISTS course_search_course_columns ON course",
    "DROP FUNCTION IF EXISTS lyceum_course_search_from_stats()",
    "DROP FUNCTION IF EXISTS lyceum_course_search_from_user()",
    "DROP FUNCTION IF EXISTS lyceum_course_search_columns_from_course()",
    "DROP FUNCTION IF EXISTS lyceum_refresh_course_search_columns(integer)",
    "DROP INDEX IF EXISTS ix_course_search_creator_id",
    # Back to 0004's function, which knows only the document.
    f"""CREATE OR REPLACE FUNCTION lyceum_refresh_course_search(cid integer) RETURNS void
        LANGUAGE sql AS $$
        INSERT INTO course_search (course_id, document)
        SELECT c.id, {_PG_DOCUMENT}
        FROM course c LEFT JOIN category cat ON cat.id = c.category_id
        WHERE c.id = cid
        ON CONFLICT (course_id) DO UPDATE SET document = EXCLUDED.document
    $$""",
    """ALTER TABLE course_search DROP COLUMN published, DROP COLUMN creator_id,
        DROP COLUMN creator_suspended_at, DROP COLUMN creator_suspended_until,
        DROP COLUMN category_id, DROP COLUMN level, DROP COLUMN language, DROP COLUMN price_minor,
        DROP COLUMN rating_count, DROP COLUMN rating_sum, DROP COLUMN rating_score,
        DROP COLUMN trending_score, DROP COLUMN published_at""",
]


# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_REFRESH = """
    INSERT OR REPLACE INTO course_search (course_id, published, creator_id, creator_suspended_at,
        creator_suspended_until, category_id, level, language, price_minor, rating_count,
        rating_sum, rating_score, trending_score, published_at)
    SELECT c.id, c.status = 'published', c.creator_id, u.suspended_at, u.suspended_until,
           c.category_id, c.level, c.language, c.price_minor, st.rating_count, st.rating_sum,
           st.rating_score, coalesce(st.trending_score, 0), c.published_at
    FROM course c JOIN users u ON u.id = c.creator_id
         LEFT JOIN course_stats st ON st.course_id = c.id
    WHERE c.id = {cid};
"""

SQLITE_UP = [
    """CREATE TABLE course_search (
        course_id INTEGER NOT NULL PRIMARY KEY REFERENCES course (id) ON DELETE CASCADE,
        published BOOLEAN NOT NULL DEFAULT 0,
        creator_id INTEGER,
        creator_suspended_at DATETIME,
        creator_suspended_until DATETIME,
        category_id INTEGER,
        level VARCHAR(20),
        language VARCHAR(8),
        price_minor BIGINT,
        rating_count INTEGER,
        rating_sum INTEGER,
        rating_score INTEGER,
        trending_score BIGINT NOT NULL DEFAULT 0,
        published_at DATETIME)""",
    "CREATE INDEX ix_course_search_creator_id ON course_search (creator_id)",
    "CREATE TRIGGER course_search_course_insert AFTER INSERT ON course BEGIN"
    + _SQLITE_REFRESH.format(cid="NEW.id") + "END",
    "CREATE TRIGGER course_search_course_update AFTER UPDATE OF status, creator_id, category_id, "
    "level, language, price_minor, published_at ON course BEGIN"
    + _SQLITE_REFRESH.format(cid="NEW.id") + "END",
    "CREATE TRIGGER course_search_user AFTER UPDATE OF suspended_at, suspended_until ON users "
    "BEGIN UPDATE course_search SET creator_suspended_at = NEW.suspended_at, "
    "creator_suspended_until = NEW.suspended_until WHERE creator_id = NEW.id; END",
    "CREATE TRIGGER course_search_stats_insert AFTER INSERT ON course_stats BEGIN "
    "UPDATE course_search SET rating_count = NEW.rating_count, rating_sum = NEW.rating_sum, "
    "rating_score = NEW.rating_score, trending_score = NEW.trending_score "
    "WHERE course_id = NEW.course_id; END",
    "CREATE TRIGGER course_search_stats_update AFTER UPDATE OF rating_count, rating_sum, "
    "rating_score, trending_score ON course_stats BEGIN "
    "UPDATE course_search SET rating_count = NEW.rating_count, rating_sum = NEW.rating_sum, "
    "rating_score = NEW.rating_score, trending_score = NEW.trending_score "
    "WHERE course_id = NEW.course_id; END",
    "CREATE TRIGGER course_search_stats_delete AFTER DELETE ON course_stats BEGIN "
    "UPDATE course_search SET rating_count = NULL, rating_sum = NULL, rating_score = NULL, "
    "trending_score = 0 WHERE course_id = OLD.course_id; END",
    "INSERT INTO course_search (course_id, published, creator_id, creator_suspended_at, "
    "creator_suspended_until, category_id, level, language, price_minor, rating_count, "
    "rating_sum, rating_score, trending_score, published_at) "
    "SELECT c.id, c.status = 'published', c.creator_id, u.suspended_at, u.suspended_until, "
    "c.category_id, c.level, c.language, c.price_minor, st.rating_count, st.rating_sum, "
    "st.rating_score, coalesce(st.trending_score, 0), c.published_at "
    "FROM course c JOIN users u ON u.id = c.creator_id "
    "LEFT JOIN course_stats st ON st.course_id = c.id",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS course_search_stats_delete",
    "DROP TRIGGER IF EXISTS course_search_stats_update",
    "DROP TRIGGER IF EXISTS course_search_stats_insert",
    "DROP TRIGGER IF EXISTS course_search_user",
    "DROP TRIGGER IF EXISTS course_search_course_update",
    "DROP TRIGGER IF EXISTS course_search_course_insert",
    "DROP INDEX IF EXISTS ix_course_search_creator_id",
    "DROP TABLE IF EXISTS course_search",
]
