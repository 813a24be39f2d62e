"""GET /api/v1/me: the token's user; 401 problem without a token (a fixed point)."""
from __future__ import annotations

from datetime import timedelta

from app.accounts.api_tokens import revoke_token
from app.accounts.models import ApiToken
from app.dbtypes import utcnow
from app.extensions import db
from tests.support.api import ApiClient, assert_problem
from tests.support.oauth import obtain_tokens, register


def test_me_without_a_token_is_a_401_problem(anonymous):
    resp = anonymous.get("/api/v1/me")
    body = assert_problem(resp, 401)
    assert "Bearer" in resp.headers["WWW-Authenticate"]
    assert "bearer token" in body["detail"]


def test_me_returns_the_tokens_user_and_scopes(api, learner):
    resp = api(learner, "learn").get("/api/v1/me")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == learner.id and body["email"] == learner.email
    assert body["token"] == {"kind": "pat", "scopes": ["learn"], "client_id": None}
    assert body["created_at"].endswith("Z")


def test_a_session_cookie_alone_gets_nothing(client, learner, login):
    login(learner)
    assert_problem(client.get("/api/v1/me"), 401)


def test_junk_and_wrong_scheme_tokens_are_401(client):
    for header in ("Bearer nope", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer lyc_pat_" + "x" * 43,
                   "Bearer " + "a" * 5000):
        resp = client.get("/api/v1/me", headers={"Authorization": header})
        assert_problem(resp, 401)
        assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_a_revoked_token_stops_at_once(client, api, learner):
    caller = api(learner)
    assert caller.get("/api/v1/me").status_code == 200
    token = db.session.query(ApiToken).filter_by(user_id=learner.id).one()
    revoke_token(learner, token.id)
    db.session.commit()
    assert_problem(caller.get("/api/v1/me"), 401)


def test_an_expired_token_is_refused(client, api, learner):
    caller = api(learner)
    token = db.session.query(ApiToken).filter_by(user_id=learner.id).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(caller.get("/api/v1/me"), 401)


def test_a_suspended_users_token_stops_at_once(client, api, learner):
    caller = api(learner)
    learner.suspended_at = utcnow()
    learner.suspension_reason = "spam"
    db.session.commit()
    body = assert_problem(caller.get("/api/v1/me"), 403)
    assert "suspended" in body["detail"]
    assert_problem(caller.get("/api/v1/courses"), 403)  # even where no token is needed


def test_unknown_api_address_is_a_problem(anonymous):
    assert_problem(anonymous.get("/api/v1/nothing-here"), 404)
    assert_problem(ApiClient(anonymous.client).post("/api/v1/me"), 405)


def test_a_call_records_when_the_token_was_last_used(api, learner):
    caller = api(learner)
    token = db.session.query(ApiToken).filter_by(user_id=learner.id).one()
    assert token.last_used_at is None
    assert caller.get("/api/v1/courses").status_code == 200
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_an_oauth_access_token_speaks_for_its_user_until_revoked(client, login, learner):
    app_client = register(scopes="read learn").client
    login(learner)
    tokens = obtain_tokens(client, app_client, scope="read")
    caller = ApiClient(client, tokens["access_token"])
    me = caller.get("/api/v1/me").get_json()
    assert me["id"] == learner.id
    assert me["token"] == {"kind": "oauth", "scopes": ["read"], "client_id": app_client.client_id}
    assert_problem(caller.post("/api/v1/enrollments", json={"course_id": 1}), 403)  # no `learn` scope
    resp = client.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": app_client.client_id})
    assert resp.status_code == 200
    assert_problem(caller.get("/api/v1/me"), 401)
