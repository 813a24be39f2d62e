"""The client's address behind trusted proxies (PROXY_TRUSTED_HOPS, app/proxy.py): rate
limits and audit rows see each client, and nobody can choose their own address."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.moderation.models import AuditLog
from tests.support.pages import text

PROXY = "127.0.0.1"  # the test client's peer address: the proxy in these tests


@pytest.fixture
def behind_proxy(app, monkeypatch):
    """One trusted proxy in front: it appends the address it saw to X-Forwarded-For."""
    monkeypatch.setitem(app.config, "PROXY_TRUSTED_HOPS", 1)


@pytest.fixture
def login_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")


def bad_login(client, forwarded_for: str, n: int = 0):
    """A wrong password for a different (unknown) address each time: only the per-IP
    limit can refuse it."""
    return client.post("/auth/login", data={"email": f"guess{n}@example.test", "password": "x"},
                       headers={"X-Forwarded-For": forwarded_for})


def test_two_clients_behind_the_proxy_have_separate_buckets(client, behind_proxy, login_limit):
    for n in range(3):
        assert bad_login(client, "203.0.113.1", n).status_code == 422
    assert bad_login(client, "203.0.113.1", 3).status_code == 429
    assert bad_login(client, "203.0.113.2", 4).status_code == 422  # another client: its own bucket


def test_a_forwarded_for_without_a_trusted_proxy_is_ignored(client, login_limit):
    """No proxy configured: the header is the client's own word, and the peer counts."""
    for n in range(3):
        assert bad_login(client, f"198.51.100.{n}", n).status_code == 422
    resp = bad_login(client, "198.51.100.99", 3)
    assert resp.status_code == 429 and "too often" in text(resp)


def test_a_client_cannot_choose_its_address_through_the_proxy(client, behind_proxy, login_limit):
    """What the client wrote into X-Forwarded-For stays left of what our proxy appended."""
    for n in range(3):
        assert bad_login(client, f"10.0.0.{n}, 203.0.113.7", n).status_code == 422
    assert bad_login(client, "10.0.0.99, 203.0.113.7", 3).status_code == 429


def test_audit_rows_record_the_clients_address(client, login, admin, behind_proxy, db):
    login(admin)
    resp = client.post("/admin/categories", data={"name": "Proxies"},
                       headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
    assert resp.status_code == 302
    row = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "category.added")).one()
    assert row.ip == "203.0.113.9"


def test_audit_rows_ignore_a_forwarded_for_without_a_trusted_proxy(client, login, admin, db):
    login(admin)
    client.post("/admin/categories", data={"name": "Proxies"}, headers={"X-Forwarded-For": "6.6.6.6"})
    row = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "category.added")).one()
    assert row.ip == PROXY


@pytest.mark.parametrize("hops, scheme", [(0, "http"), (1, "https")])
def test_the_scheme_of_mailed_links_is_believed_only_from_a_trusted_proxy(app, client, learner, outbox,
                                                                         monkeypatch, hops, scheme):
    monkeypatch.setitem(app.config, "PROXY_TRUSTED_HOPS", hops)
    client.post("/auth/password/forgot", data={"email": learner.email},
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.3"})
    assert f"{scheme}://localhost/auth/password/reset/" in outbox.last().get_content()
