"""Writes at the same moment, against a real threaded server (issue #13, item 10).

On the embedded default (SQLite) a transaction that read and then wrote failed at once with
"database is locked" when another request was writing (a 500): 8 withdrawals at once, 6
checkout starts at once, a direct message started while a room socket posts. Each request now
succeeds or gets a 4xx with a reason, and the money stays right. The server has its own app and
database (as the browser tests do): its requests commit for real. Runs on PostgreSQL too.
"""
from __future__ import annotations

import json
import logging
import re
import threading

import pytest
import requests
import sqlalchemy as sa
from simple_websocket import Client
from werkzeug.serving import make_server

from app.accounts.models import User
from app.catalog import structure
from app.commerce import ledger, payouts
from app.commerce.models import Order, Payout
from app.commerce.settings import set_setting
from app.extensions import db as _db
from app.learning.enrollment import enroll
from app.messaging import direct
from app.messaging.models import Conversation
from tests import factories
from tests.support.apps import build_app
from tests.support.commerce import buy, paid_course

# No per-test rollback: the server's threads must see committed rows.
pytestmark = pytest.mark.committed


class Live:
    def __init__(self, app, port: int):
        self.app, self.url = app, f"http://127.0.0.1:{port}"

    def signed_in(self, user: User) -> requests.Session:
        """A browser of `user`, signed in through the log-in form."""
        browser = requests.Session()
        resp = browser.post(f"{self.url}/auth/login", allow_redirects=False,
                            data={"email": user.email, "password": factories.PASSWORD})
        assert resp.status_code in (302, 303), resp.status_code
        return browser


@pytest.fixture(scope="module")
def live():
    app, teardown = build_app()
    server = make_server_quietly(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, server.server_port)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        teardown()


def make_server_quietly(app):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    return make_server("127.0.0.1", 0, app, threaded=True)


@pytest.fixture
def ctx(live):
    with live.app.app_context():
        yield
        _db.session.remove()


def at_once(calls) -> list:
    """Run every call in its own thread, released together; what each returned or raised."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        start.wait(timeout=10)
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in the thread
            results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def post(browser: requests.Session, url: str, data: dict):
    def call():
        return browser.post(url, data=data, allow_redirects=False).status_code
    return call


def test_eight_withdrawals_at_once_pay_what_is_available_and_refuse_the_rest(live, ctx):
    admin = factories.make_user(permissions=("superuser",))
    creator = factories.make_user()
    set_setting(admin, "escrow", {"mode": "none", "days": 0})
    _db.session.commit()
    course = paid_course(creator)
    _db.session.commit()
    for _ in range(4):
        buy(factories.make_user(), course)
    payouts.connect_paypal(creator, email=creator.email)
    _db.session.commit()
    available = ledger.creator_balances(creator.id)["available"]
    assert 5 * 2000 <= available < 6 * 2000
    browsers = [live.signed_in(creator) for _ in range(8)]

    statuses = at_once([post(b, f"{live.url}/studio/earnings/withdraw", {"amount": "20.00"})
                        for b in browsers])

    assert sorted(statuses) == [302] * 5 + [422] * 3, statuses
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Payout)
                              .where(Payout.creator_id == creator.id)) == 5
    assert ledger.creator_balances(creator.id)["available"] == available - 5 * 2000
    assert ledger.check_invariants() == []


def test_six_checkout_starts_at_once_each_reach_the_payment_page(live, ctx):
    course = paid_course(factories.make_user())
    buyers = [factories.make_user() for _ in range(3)]
    _db.session.commit()
    browsers = [live.signed_in(buyer) for buyer in buyers for _ in range(2)]

    statuses = at_once([post(b, f"{live.url}/checkout/courses/{course.id}", {}) for b in browsers])

    assert statuses == [303] * 6, statuses
    _db.session.remove()
    for buyer in buyers:
        pending = _db.session.scalars(sa.select(Order).where(Order.buyer_id == buyer.id)).all()
        assert pending and {order.status for order in pending} == {"pending"}
    assert ledger.check_invariants() == []


def test_direct_messages_started_while_a_room_socket_posts_all_go_through(live, ctx):
    creator, learner = factories.make_user(), factories.make_user()
    course = factories.make_course(creator, status="published")
    enroll(learner, course)
    others = [factories.make_user() for _ in range(6)]
    _db.session.commit()
    socket_browser = live.signed_in(learner)
    browsers = [live.signed_in(learner) for _ in others]
    cookie = "; ".join(f"{c.name}={c.value}" for c in socket_browser.cookies)
    ws = Client.connect(f"ws://{live.url.removeprefix('http://')}/ws/chat/{course.id}",
                        headers={"Cookie": cookie})
    acks: list[str] = []

    def post_frames():
        for n in range(12):
            ws.send(json.dumps({"body": f"socket message {n}"}))
            while True:
                data = ws.receive(timeout=10)
                assert data is not None, "the socket went quiet"
                if re.search(r'data-sent="\d+"', data):
                    acks.append(data)
                    break
                assert "could not" not in data and "wrong" not in data, data
        return "posted"

    try:
        results = at_once([post_frames] + [post(b, f"{live.url}/chat/messages/new", {"to": str(other.id)})
                                           for b, other in zip(browsers, others, strict=True)])
    finally:
        ws.close()

    assert results[0] == "posted" and len(acks) == 12, results
    assert results[1:] == [302] * 6, results
    _db.session.remove()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)) == 6


def test_pages_that_write_on_get_read_while_messages_are_sent(live, ctx):
    """Opening a conversation marks it read (a GET that writes): four tabs open it while the
    other side sends eight messages."""
    reader, writer = factories.make_user(), factories.make_user()
    _db.session.commit()
    conversation = direct.conversation_with(writer, reader)
    _db.session.commit()
    url = f"{live.url}/chat/messages/{conversation.id}"
    readers = [live.signed_in(reader) for _ in range(4)]
    writers = [live.signed_in(writer) for _ in range(4)]

    def read(browser):
        return lambda: [browser.get(url, allow_redirects=False).status_code for _ in range(4)]

    def send(browser):
        return lambda: [browser.post(url, data={"body": f"hello {n}"}, allow_redirects=False).status_code
                        for n in range(2)]

    results = at_once([read(b) for b in readers] + [send(b) for b in writers])

    assert results == [[200] * 4] * 4 + [[302] * 2] * 4, results


def test_a_lesson_opened_in_many_tabs_at_once(live, ctx):
    """Opening a lesson records it as opened (a GET that writes): six tabs, three times each."""
    creator, learner = factories.make_user(), factories.make_user()
    course = factories.make_course(creator, status="published")
    section = structure.add_section(creator, course, title="Start")
    lesson = structure.add_lesson(creator, section, title="Welcome", kind="text")
    enroll(learner, course)
    _db.session.commit()
    url = f"{live.url}/learn/{course.id}/lessons/{lesson.id}"
    browsers = [live.signed_in(learner) for _ in range(6)]

    results = at_once([lambda b=b: [b.get(url).status_code for _ in range(3)] for b in browsers])

    assert results == [[200] * 3] * 6, results
