"""Live dashboards over the stream a signed-in page already has (issue 17, part 4), against a
real server: "your figures changed" arrives as an `analytics` event without an id (resuming
notifications is unaffected), on the creator's own stream and every finance admin's; nobody
else hears it."""
from __future__ import annotations

import pytest

from app.analytics import live as live_figures
from app.extensions import db as _db
from app.messaging.notifications import notify
from tests import factories
from tests.support.eventstreams import EventStream
from tests.support.live import live_server_on_own_database, server_side_write

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed

STREAM = "/notifications/stream"


@pytest.fixture(scope="module")
def live():
    with live_server_on_own_database() as server:
        yield server


@pytest.fixture
def ctx(live):
    with live.app.app_context():
        yield
        _db.session.remove()


@pytest.fixture(params=[pytest.param(True, id="fast-path"), pytest.param(False, id="public-apis-only")])
def fast_path(request, live, monkeypatch) -> bool:
    """LIVE_FAST_PATH for the streams opened in this test (read when a stream opens)."""
    monkeypatch.setitem(live.app.config, "LIVE_FAST_PATH", request.param)
    return request.param


@pytest.fixture
def streams(live):
    opened: list[EventStream] = []

    def open_for(user, **kwargs) -> EventStream:
        stream = EventStream("127.0.0.1", live.port, STREAM, cookie=live.cookie_for(user), **kwargs)
        assert stream.status == 200
        opened.append(stream)
        return stream

    yield open_for
    for stream in opened:
        stream.close()


def user(*permissions: str, name: str = "Carl Creator"):
    return factories.make_user(display_name=name, permissions=permissions)


def figures_changed(creator_id: int | None) -> None:
    """What a rollup subscriber does after its bump: in a transaction that then commits."""
    with server_side_write():
        live_figures.figures_changed(creator_id)


def tell(someone) -> int:
    """A notification for `someone` (committed, so published): a marker in their stream."""
    with server_side_write():
        return notify(_db.session.merge(someone), "welcome", name="marker").id


def test_the_creators_stream_says_their_figures_changed(ctx, streams, fast_path):
    creator = user()
    stream = streams(creator)
    figures_changed(creator.id)
    event = stream.next(timeout=10)
    assert (event.name, event.data, event.id) == ("analytics", "changed", None)


def test_the_analytics_event_leaves_resuming_notifications_alone(ctx, streams, fast_path):
    creator = user()
    stream = streams(creator)
    first = tell(creator)
    assert stream.next(timeout=10).id == str(first)
    figures_changed(creator.id)
    assert stream.next(timeout=10).name == "analytics"
    assert stream.last_id == str(first)  # a reconnect still resumes after the notification
    second = tell(creator)
    assert (stream.next(timeout=10).name, stream.last_id) == ("notification", str(second))


def test_another_creators_stream_hears_nothing_of_my_figures(ctx, streams):
    me, other = user(), user(name="Otto Other")
    theirs = streams(other)
    figures_changed(me.id)
    marker = tell(other)
    event = theirs.next(timeout=10)  # published after mine: had mine come, it would be first
    assert (event.name, event.id) == ("notification", str(marker))


@pytest.mark.parametrize("permission", ["manage_finance", "superuser"])
def test_a_finance_admins_stream_hears_every_change_of_the_platforms_figures(ctx, streams, permission):
    admin = user(permission, name="Fiona Finance")
    creator = user()
    stream = streams(admin)
    figures_changed(None)
    figures_changed(creator.id)
    assert [stream.next(timeout=10).name for _ in range(2)] == ["analytics", "analytics"]


@pytest.mark.parametrize("permissions", [(), ("moderate",), ("review_courses",), ("manage_users",)],
                         ids=["plain user", "moderator", "reviewer", "user admin"])
def test_nobody_else_hears_the_platforms_figures(ctx, streams, permissions):
    someone = user(*permissions, name="Sam Someone")
    stream = streams(someone)
    figures_changed(None)
    marker = tell(someone)
    event = stream.next(timeout=10)
    assert (event.name, event.id) == ("notification", str(marker))


def test_a_creator_who_is_also_a_finance_admin_hears_their_own_change_twice(ctx, streams):
    """Once on their own channel and once on the platform's: the page's refresh is throttled,
    so the second costs at most one more re-read."""
    admin = user("manage_finance", name="Fiona Finance")
    stream = streams(admin)
    figures_changed(admin.id)
    marker = tell(admin)
    names = [stream.next(timeout=10).name for _ in range(3)]
    # Two channels: the platform's event may come after the marker sent on the user's own one.
    assert sorted(names) == ["analytics", "analytics", "notification"]
    assert stream.last_id == str(marker)
