"""Calling the JSON API as a client does: a bearer token made through the token service, and
requests that carry it."""
from __future__ import annotations

from flask.testing import FlaskClient

from app.accounts.api_tokens import create_token
from app.accounts.models import User
from app.accounts.scopes import ALL_SCOPES
from app.extensions import db
from tests import factories

EVERY_PLAIN_SCOPE = ("read", "learn", "teach", "sell")


def token_for(user: User, *scopes: str) -> str:
    """A personal access token of `user` with `scopes` (default: every plain scope)."""
    _, secret = create_token(user, name="tests", scopes=list(scopes or EVERY_PLAIN_SCOPE))
    db.session.commit()
    return secret


def admin_scopes() -> list[str]:
    return [scope for scope in ALL_SCOPES if scope.startswith("admin:")]


class ApiClient:
    """A test client whose requests carry `Authorization: Bearer <token>` (none: anonymous)."""

    def __init__(self, client: FlaskClient, token: str | None = None):
        self.client = client
        self.token = token

    def open(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


def assert_problem(resp, status: int) -> dict:
    """`resp` is an RFC 9457 problem with `status`; returns its body."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def assert_admin_only(client: FlaskClient, permission: str, method: str, path: str, **kwargs) -> None:
    """An `admin:<permission>` route refuses, before it looks anything up: no token (401); a
    token of an admin holding the permission but not the scope (403); a non-admin's token
    with every scope they can have (403); and a token with the scope whose user has since
    lost the permission (403)."""
    holder = factories.make_user(permissions=(permission,))
    assert_problem(ApiClient(client).open(method, path, **kwargs), 401)
    assert_problem(ApiClient(client, token_for(holder, "read")).open(method, path, **kwargs), 403)
    assert_problem(ApiClient(client, token_for(factories.make_user())).open(method, path, **kwargs), 403)
    scoped = ApiClient(client, token_for(holder, f"admin:{permission}"))
    holder.permission_grants.clear()
    db.session.commit()
    body = assert_problem(scoped.open(method, path, **kwargs), 403)
    assert f"admin:{permission}" in body["detail"]
