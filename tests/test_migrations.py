"""The schema only changes through migrations: they must match the models exactly, and
every migration must also go back down."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.dbtypes import include_in_schema_comparison
from app.extensions import db as _db
from tests.support.apps import build_app


def test_migrations_match_the_models_and_round_trip():
    app, teardown = build_app()
    try:
        with app.app_context():
            with _db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_object": include_in_schema_comparison,
                                                                 "compare_type": True})
                assert compare_metadata(context, _db.metadata) == []
            downgrade(revision="base")
            upgrade()
            with _db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_object": include_in_schema_comparison,
                                                                 "compare_type": True})
                assert compare_metadata(context, _db.metadata) == []
    finally:
        teardown()
