"""The public catalog reads from `DATABASE_REPLICA_URL` when it is set (app/discovery/replica.py).

The replica here is the test database itself behind a read-only connection (SQLite's
`mode=ro`, PostgreSQL's `default_transaction_read_only`), as a real replica refuses writes:
every catalog page works on it, so nothing on those paths writes, and its statements are
seen going there."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.discovery.replica import catalog_session, replica_engine, replica_reads
from app.discovery.search import refresh_search_terms
from app.extensions import db as _db
from tests import factories
from tests.support import search
from tests.support.apps import build_app

# No per-test rollback: the replica's own connection must see committed rows.
pytestmark = pytest.mark.committed


def read_only(url: str) -> str:
    """The same database, on connections that may not write."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    return parsed.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(
        hide_password=False)


@pytest.fixture(scope="module")
def catalog():
    """An app whose replica is its own database, read-only, with one published course."""
    app, teardown = build_app()
    app.config["DATABASE_REPLICA_URL"] = read_only(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        creator = factories.make_user(display_name="Carl Creator")
        reviewer = factories.make_user(permissions=("review_courses",))
        course = search.publish(creator, reviewer, title="Watercolour Harbours")
        refresh_search_terms()
        _db.session.commit()
        found = {"creator_id": creator.id, "course_title": course.title}
    try:
        yield app, found
    finally:
        replica_engine(app).dispose()
        teardown()


def test_catalog_and_search_pages_read_from_the_replica_and_never_write(catalog):
    app, found = catalog
    statements: list[str] = []
    engine = replica_engine(app)
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        client = app.test_client()
        for url in ("/courses/", "/courses/?q=harbours&level=all", "/courses/?q=watercolor",
                    f"/creators/{found['creator_id']}"):
            statements.clear()
            page = client.get(url)
            assert page.status_code == 200, url
            assert found["course_title"] in page.get_data(as_text=True), url
            assert any("course_search" in statement for statement in statements), url
        assert "results for <strong>“watercolour”</strong>" in client.get("/courses/?q=watercolor").get_data(
            as_text=True)  # "did you mean", from the replica's vocabulary
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def test_the_replica_refuses_writes_and_the_primary_is_untouched_outside_catalog_reads(catalog):
    app, _ = catalog
    with app.app_context():
        with replica_reads():
            assert catalog_session().get_bind() is replica_engine(app)
            with pytest.raises(sa.exc.DBAPIError):
                catalog_session().execute(sa.text("DELETE FROM search_term"))
        assert catalog_session() is _db.session  # outside the block: the primary
