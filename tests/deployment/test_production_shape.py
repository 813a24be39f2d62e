"""Lyceum run the way it is deployed: nginx with the committed config in front of two
gunicorn processes, an RQ worker and the clock (the Procfile's commands, deploy/lyceum.env's
settings), PostgreSQL and Redis. Every check goes through nginx.

The tests that run in one pytest process share one deployment (a module fixture); each makes
the people and purchases it needs, and the two that stop a process (a web process with SIGTERM,
the worker with SIGKILL) have it started again afterwards, whatever happened.

Which web process serves a client is read from a header the test's rendered listen file adds
(nginx's `$upstream_addr`); the committed lyceum.conf is run unchanged."""
from __future__ import annotations

import email
import io
import re
import time
import uuid
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from app.accounts import auth, roles
from app.accounts.queries import user_by_email
from app.catalog import courses, publishing, structure
from app.catalog.models import Category
from app.catalog.samples import png
from app.commerce import ledger
from app.commerce.models import LedgerTransaction, Payout
from app.extensions import db
from tests.support.deployment import UPSTREAM_HEADER, Deployment
from tests.support.eventstreams import EventStream
from tests.support.websockets import WsClient

pytestmark = pytest.mark.real_services

PASSWORD = "correct horse battery"
TITLE = "Bookkeeping for freelancers"
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')
MESSAGE_ID = re.compile(r'<li id="m-(\d+)"')
WAIT = 120.0  # seconds: generous, the machine is busy


def unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.com"  # the servers refuse .test (RFC 2606) addresses


class SourceAddress(HTTPAdapter):
    """Connections from another loopback address: nginx sees a client that is not 127.0.0.1."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Visitor:
    """A person with a browser's cookies, through nginx only."""

    def __init__(self, site: Deployment, source: str | None = None):
        self.site = site
        self.http = requests.Session()
        if source:
            self.http.mount("http://", SourceAddress(source))

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.site.url + path, timeout=60, **kwargs)

    def post(self, path: str, data: dict | None = None, *, form_page: str | None = None,
             **kwargs) -> requests.Response:
        """POST with the CSRF token of `form_page` (default: the path itself)."""
        page = self.get(form_page or path)
        field = CSRF_INPUT.search(page.text)
        assert field, f"no CSRF token on {form_page or path} ({page.status_code})"
        token = VALUE.search(field.group(0)).group(1)
        return self.http.post(self.site.url + path, data={**(data or {}), "csrf_token": token},
                              timeout=60, **kwargs)

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def log_in(self, email_address: str, **kwargs) -> requests.Response:
        resp = self.post("/auth/login", {"email": email_address, "password": PASSWORD}, **kwargs)
        assert resp.status_code == 200 and "/dashboard" in resp.url, resp.text[:500]
        return resp

    def socket(self, path: str, on: str | None = None) -> WsClient:
        """A WebSocket through nginx; with `on`, reopened until nginx hands it to that web process."""
        for _ in range(20):
            ws = WsClient.connect(f"ws://127.0.0.1:{self.site.port}{path}",
                                  headers={"Cookie": self.cookie, "Origin": self.site.url})
            if on is None or ws.response_headers.get(UPSTREAM_HEADER.lower()) == self.site.upstream(on):
                return ws
            ws.close()
        raise AssertionError(f"nginx never handed a socket to {on}")

    def stream(self, path: str, on: str | None = None, last_event_id: str | None = None) -> EventStream:
        for _ in range(20):
            stream = EventStream("127.0.0.1", self.site.port, path, cookie=self.cookie,
                                 last_event_id=last_event_id)
            assert stream.status == 200, stream.status
            if on is None or stream.headers.get(UPSTREAM_HEADER.lower()) == self.site.upstream(on):
                return stream
            stream.close()
        raise AssertionError(f"nginx never handed a stream to {on}")


def opens_the_player(visitor: Visitor, course_id: int) -> bool:
    """The course's player sends an enrolled learner on to a lesson (others get a refusal)."""
    resp = visitor.get(f"/learn/{course_id}", allow_redirects=False)
    return resp.is_redirect and "/lessons/" in resp.headers["Location"]


def served_by(site: Deployment, connection) -> str:
    headers = connection.response_headers if isinstance(connection, WsClient) else connection.headers
    return site.web_named(headers[UPSTREAM_HEADER.lower()])


def mailed_path(site: Deployment, to: str, prefix: str) -> str | None:
    pattern = re.compile(r"https?://[^/\s]+(" + re.escape(prefix) + r"\S+)")
    for file in Path(site.env["MAIL_DIR"]).glob("*.eml"):
        message = email.message_from_bytes(file.read_bytes(), policy=policy.default)
        match = pattern.search(message.get_content()) if message["To"] == to else None
        if match:
            return match.group(1)
    return None


def receive_until(ws: WsClient, pattern: re.Pattern, timeout: float = WAIT) -> list[str]:
    """Frames until one matches `pattern` (all of them returned)."""
    frames, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = ws.receive(timeout=max(deadline - time.monotonic(), 0.1))
        if frame is not None:
            frames.append(frame)
            if pattern.search(frame):
                return frames
    raise AssertionError(f"no frame matching {pattern.pattern} within {timeout} s; got {frames}")


# --- data made through the services beforehand (people and a published course) ---------------


def make_person(site: Deployment, who: str, display_name: str, *permissions: str) -> str:
    address = unique_email(who)
    with site.app().app_context():
        user = auth.sign_up(email=address, display_name=display_name, password=PASSWORD)
        for permission in permissions:
            roles.grant_permission(None, user, permission, system=True)
        db.session.commit()
    return address


def publish_course(site: Deployment, creator_email: str, reviewer_email: str, price_minor: int) -> dict:
    with site.app().app_context():
        creator, reviewer = user_by_email(creator_email), user_by_email(reviewer_email)
        category_id = db.session.scalar(sa.select(Category.id).order_by(Category.position).limit(1))
        course = courses.create_course(creator, title=TITLE, category_id=category_id, accept_terms=True)
        courses.update_course_field(creator, course, "subtitle", "Invoices, expenses and taxes")
        courses.update_course_field(creator, course, "description", (
            "A practical course in short lessons. Each section ends with a summary so you can check "
            "what you learned, and the notes summarise every idea. You practise on realistic "
            "examples rather than toy problems, and finish with a small project of your own."))
        courses.update_course_field(creator, course, "level", "beginner")
        courses.set_price(creator, course, price_minor)
        courses.set_cover(creator, course, io.BytesIO(png(320, 180)), "cover.png")
        basics = structure.add_section(creator, course, title="Getting started")
        for title in ("Welcome", "First principles", "Your own books"):
            lesson = structure.add_lesson(creator, basics, title=title, kind="text")
            structure.update_lesson(creator, lesson, duration_minutes=5, is_free_preview=title == "Welcome",
                                    body=f"## {title}\n\nStart **small**, then grow.")
        publishing.submit_for_review(creator, course)
        publishing.approve_course(reviewer, course)
        db.session.commit()
        return {"id": course.id, "slug": course.slug, "creator_id": creator.id}


@pytest.fixture(scope="module")
def shop(deployment):
    """A creator's published course at $40.00."""
    creator = make_person(deployment, "cora", "Cora Creator")
    reviewer = make_person(deployment, "rita", "Rita Reviewer", "review_courses")
    return {"creator": creator, "course": publish_course(deployment, creator, reviewer, 4000)}


def buy(buyer: Visitor, course: dict) -> None:
    """Checkout through the local gateway's test page; the web process stores its signed event
    and the worker applies it: the course opens."""
    assert not opens_the_player(buyer, course["id"])  # not yet
    to_gateway = buyer.post(f"/checkout/courses/{course['id']}", form_page=f"/checkout/courses/{course['id']}")
    assert re.search(r"/checkout/local/cs_local_\w+$", to_gateway.url), to_gateway.url
    paid = buyer.post(to_gateway.url.removeprefix(buyer.site.url), {"action": "pay"})
    assert re.search(r"/checkout/orders/\d+/success$", paid.url), paid.url
    buyer.site.wait_until(lambda: opens_the_player(buyer, course["id"]), "the enrollment after the payment's webhook",
                          WAIT)


@pytest.fixture
def learner_email(deployment, shop):
    """Someone who has bought the course: their e-mail address."""
    address = make_person(deployment, "lena", "Lena Learner")
    visitor = Visitor(deployment)
    visitor.log_in(address)
    buy(visitor, shop["course"])
    return address


@pytest.fixture
def restarts(deployment):
    """The test stops processes: start them again after it."""
    yield
    deployment.revive()


# --- the tests ------------------------------------------------------------------------------------


def test_sign_up_log_in_browse_and_buy_through_the_local_gateway(deployment, shop):
    course = shop["course"]
    buyer = Visitor(deployment)
    address = unique_email("ben")

    sent = buyer.post("/auth/signup", {"display_name": "Ben Buyer", "email": address, "password": PASSWORD})
    assert sent.status_code == 200 and "Check your e-mail" in sent.text
    # The worker runs the sign-up job: it creates the account and mails the link.
    confirm = deployment.wait_until(lambda: mailed_path(deployment, address, "/auth/signup/confirm/"), "the sign-up mail", WAIT)
    welcome = buyer.post(confirm)
    assert welcome.url.endswith("/dashboard/") or "/dashboard" in welcome.url
    assert "Hello, Ben Buyer" in welcome.text

    buyer.post("/auth/logout", form_page="/dashboard/")
    assert "Hello, Ben Buyer" not in buyer.get("/dashboard/").text
    buyer.log_in(address)

    catalog = buyer.get("/courses")
    assert catalog.status_code == 200 and TITLE in catalog.text
    page = buyer.get(f"/courses/{course['slug']}")
    assert page.status_code == 200 and "$40.00" in page.text
    buy(buyer, course)
    assert "paid $40.00" in buyer.get("/checkout/purchases").text


def test_the_client_address_is_the_one_nginx_saw_not_a_forged_header(deployment, shop):
    """nginx appends the address it received the request from; the app believes that one entry
    (PROXY_TRUSTED_HOPS=1) and records it on the session, whatever the client claimed."""
    visitor = Visitor(deployment, source="127.0.0.2")
    address = make_person(deployment, "ivy", "Ivy Address")
    visitor.log_in(address, headers={"X-Forwarded-For": "203.0.113.9"})
    settings = visitor.get("/auth/settings", headers={"X-Forwarded-For": "203.0.113.9"}).text
    assert "IP address 127.0.0.2" in settings
    assert "203.0.113.9" not in settings and "IP address 127.0.0.1" not in settings


def test_chat_and_messages_across_two_web_processes_survive_one_stopping(deployment, shop, learner_email,
                                                                          restarts):
    course_id = shop["course"]["id"]
    learner, creator = Visitor(deployment), Visitor(deployment)
    learner.log_in(learner_email)
    creator.log_in(shop["creator"])

    # The learner's socket and streams on web1, the creator's socket on web2.
    learner_ws = learner.socket(f"/ws/chat/{course_id}", on="web1")
    dm_stream = learner.stream("/chat/messages/stream", on="web1")
    notes = learner.stream("/notifications/stream", on="web1")
    creator_ws = creator.socket(f"/ws/chat/{course_id}", on="web2")
    assert (served_by(deployment, learner_ws), served_by(deployment, creator_ws)) == ("web1", "web2")
    # Event streams reach the client as they happen: no length, not compressed, not cached.
    assert dm_stream.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in dm_stream.headers and "content-encoding" not in dm_stream.headers

    creator_ws.send('{"body": "Welcome to the course!"}')
    got = receive_until(learner_ws, re.compile(r"Welcome to the course!"))
    last_seen = max(int(n) for frame in got for n in MESSAGE_ID.findall(frame))
    learner_ws.send('{"body": "Thanks, glad to be here"}')
    receive_until(creator_ws, re.compile(r"Thanks, glad to be here"))

    # A direct message from the creator (web2 or web1, as nginx picks) reaches the learner's open
    # streams on web1 while they stay open: nothing sits in a buffer.
    learner_id = _user_id(deployment, learner_email)
    conversation = creator.post("/chat/messages/new", {"to": str(learner_id)}, form_page="/chat/messages")
    assert re.search(r"/chat/messages/\d+$", conversation.url), conversation.url
    conversation_path = conversation.url.removeprefix(deployment.url)
    creator.post(conversation_path, {"body": "Your first invoice is due Friday"})
    dm = dm_stream.wait_for(lambda e: e.name.startswith("dm-") and "first invoice" in e.data)
    toast = notes.wait_for(lambda e: e.name == "notification")
    assert not dm_stream.ended and not notes.ended

    # web1 is stopped the way a deploy stops it: its sockets close with 1012 and its streams
    # end; the browser says "reconnecting" while the creator goes on talking.
    deployment.processes["web1"].terminate()
    deployment.wait_until(lambda: not learner_ws.connected, "the learner's socket to close", WAIT)
    assert learner_ws.close_reason == 1012
    deployment.wait_until(lambda: dm_stream.next(WAIT) is None, "the message stream to end", WAIT)
    deployment.wait_until(lambda: notes.next(WAIT) is None, "the notification stream to end", WAIT)
    deployment.processes.pop("web1").wait(WAIT)

    creator_ws.send('{"body": "Did everyone get the template?"}')
    creator_ws.send('{"body": "It is in lesson two"}')
    receive_until(creator_ws, re.compile(r"It is in lesson two"))
    creator.post(conversation_path, {"body": "And the receipts by Monday"})

    # The learner's pages reconnect through nginx (to web2, the one left) from the last ids
    # they saw, and get everything they missed, once.
    learner_ws = learner.socket(f"/ws/chat/{course_id}?after={last_seen}")
    assert served_by(deployment, learner_ws) == "web2"
    frames = receive_until(learner_ws, re.compile(r"It is in lesson two"))
    bodies = " ".join(frames)
    assert "Did everyone get the template?" in bodies and "Thanks, glad to be here" in bodies
    ids = [int(n) for frame in frames for n in MESSAGE_ID.findall(frame)]
    assert len(ids) == len(set(ids)) == 3 and min(ids) > last_seen

    dm_stream = learner.stream("/chat/messages/stream", last_event_id=dm.id)
    missed = dm_stream.wait_for(lambda e: e.name.startswith("dm-") and e.id is not None)  # a message
    assert "receipts by Monday" in missed.data and int(missed.id) > int(dm.id)
    notes = learner.stream("/notifications/stream", last_event_id=toast.id)
    missed_toast = notes.wait_for(lambda e: e.name == "notification")
    assert int(missed_toast.id) > int(toast.id)
    for connection in (learner_ws, creator_ws, dm_stream, notes):
        connection.close()


def _user_id(site: Deployment, address: str) -> int:
    with site.app().app_context():
        return user_by_email(address).id


def test_a_worker_killed_during_a_payout_pays_exactly_once_after_a_new_worker_starts(deployment, shop, restarts):
    """The worker is killed (SIGKILL, with its work horse) after the payout was marked as being
    sent and the provider called, before the settlement committed: the test holds a row lock
    the settlement needs, as a slow transaction would. A new worker and the clock's money upkeep
    finish it: paid once."""
    site, creator_email = deployment, shop["creator"]
    app = site.app()
    with app.app_context():
        creator = user_by_email(creator_email)
        creator_id = creator.id
        # Money the creator may withdraw (a sale through PayPal, released from escrow).
        ledger.post(f"test-sale:{uuid.uuid4().hex}", "sale", [
            (ledger.gateway_account("paypal"), 5000),
            (ledger.creator_account(creator_id, "available"), -5000)], currency="USD")
        db.session.commit()
        available_before = ledger.creator_balances(creator_id)["available"]

    creator = Visitor(site)
    creator.log_in(creator_email)
    connected = creator.post("/studio/earnings/connect/paypal", {"email": "cora.payouts@example.com"},
                             form_page="/studio/earnings")
    assert "PayPal is connected" in connected.text

    engine = sa.create_engine(site.database_url)
    holder = engine.connect()
    lock = holder.begin()
    try:
        holder.execute(sa.text("SELECT id FROM ledger_account WHERE name = :name FOR UPDATE"),
                       {"name": ledger.gateway_account("paypal")})
        creator.post("/studio/earnings/withdraw", {"amount": "30"}, form_page="/studio/earnings")

        def payout_waiting_on_the_lock():
            with engine.connect() as conn:
                status = conn.scalar(sa.text("SELECT status FROM payout WHERE creator_id = :c"), {"c": creator_id})
                waiting = conn.scalars(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).all()
            return waiting if status == "processing" else None

        orphans = deployment.wait_until(payout_waiting_on_the_lock, "the worker to be settling the payout", WAIT)
        site.kill("worker")
        with engine.connect() as conn:  # the killed worker's transaction ends with it
            for pid in orphans:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        lock.rollback()
        holder.close()

    with app.app_context():
        payout = db.session.scalar(sa.select(Payout).where(Payout.creator_id == creator_id))
        payout_id = payout.id
        assert payout.status == "processing"  # in flight: neither settled nor returned
        assert ledger.find_transaction(f"payout-settled:{payout_id}") is None
        # Left like this for longer than money upkeep waits before resuming a payout (10 min).
        payout.created_at -= timedelta(hours=1)
        db.session.commit()

    site.start_process("worker")

    def paid() -> bool:
        with app.app_context():
            db.session.expire_all()
            status = db.session.get(Payout, payout_id).status
            db.session.rollback()
            return status == "paid"

    deployment.wait_until(paid, "the clock's money upkeep and the new worker to finish the payout", timeout=240)
    with app.app_context():
        settled = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"payout-settled:{payout_id}"))
        assert settled == 1
        balances = ledger.creator_balances(creator_id)
        assert balances["available"] == available_before - 3000
        assert balances["payout_in_flight"] == 0
        assert ledger.check_invariants() == []
    assert "$30.00" in creator.get("/studio/earnings").text
    engine.dispose()
